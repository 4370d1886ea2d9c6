/**
 * The Python half of `warden plugin audit` (docs/audit.md), run by `python3 -I -` with the file paths as
 * arguments: Python's own `ast` module reads each file; one JSON array on stdout, an entry per file,
 * `{"file", "ok": true, "uses": [...]}` or `{"file", "ok": false, "line", "message"}`. The uses have the
 * shape of `Use` in types.ts. Kept as a string so that tsc ships it inside dist.
 */
export const PYTHON_ANALYZER = String.raw`
import ast, json, os, sys

MODULES = {
    'subprocess': 'childProcess', 'multiprocessing': 'childProcess', 'pty': 'childProcess',
    'socket': 'network', 'urllib.request': 'network', 'http.client': 'network', 'requests': 'network',
    'httpx': 'network', 'aiohttp': 'network', 'ftplib': 'network', 'smtplib': 'network',
    'ctypes': 'nativeCode', 'cffi': 'nativeCode',
}
OS_CHILD = {'system', 'popen', 'fork', 'forkpty', 'posix_spawn', 'posix_spawnp'}
DYNAMIC = {'eval', 'exec', 'compile'}
# The path arguments of each fs function: r read, w write.
FS = {
    'os.listdir': 'r', 'os.scandir': 'r', 'os.stat': 'r', 'os.lstat': 'r', 'os.access': 'r', 'os.walk': 'r',
    'os.readlink': 'r', 'os.path.exists': 'r', 'os.path.isfile': 'r', 'os.path.isdir': 'r',
    'os.path.getsize': 'r', 'shutil.disk_usage': 'r',
    'os.remove': 'w', 'os.unlink': 'w', 'os.mkdir': 'w', 'os.makedirs': 'w', 'os.rmdir': 'w',
    'os.removedirs': 'w', 'os.rename': 'ww', 'os.replace': 'ww', 'os.chmod': 'w', 'os.chown': 'w',
    'os.symlink': 'rw', 'os.link': 'rw', 'os.truncate': 'w', 'os.utime': 'w', 'os.mkfifo': 'w',
    'shutil.copy': 'rw', 'shutil.copy2': 'rw', 'shutil.copyfile': 'rw', 'shutil.copytree': 'rw',
    'shutil.move': 'ww', 'shutil.rmtree': 'w',
}
OPENERS = {'open', 'io.open', 'codecs.open', 'os.open'}
PATHS = {'pathlib.Path', 'pathlib.PurePath', 'pathlib.PosixPath', 'pathlib.PurePosixPath'}
PATH_WRITES = {'write_text', 'write_bytes', 'mkdir', 'touch', 'unlink', 'rmdir', 'rename', 'replace',
               'symlink_to', 'hardlink_to', 'chmod'}
OS_WRITE_FLAGS = {'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_APPEND', 'O_TRUNC'}


# The flagged module a dotted name belongs to ('subprocess.run' is subprocess), or None.
def module_of(name):
    parts = name.split('.')
    for i in range(len(parts), 0, -1):
        prefix = '.'.join(parts[:i])
        if prefix in MODULES:
            return prefix
    return None


# The string an expression always is, or None.
def const_str(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return ''.join(str(v.value) for v in node.values)
    return None


# One file's walk: import aliases first seen, then every use resolved through them.
class Analyzer(ast.NodeVisitor):
    def __init__(self, file):
        self.file = file
        self.aliases = {}
        self.reported = set()
        self.uses = []

    # Records one use at the node's line.
    def add(self, kind, node, detail, **extra):
        use = {'kind': kind, 'line': getattr(node, 'lineno', 0), 'detail': detail}
        use.update(extra)
        self.uses.append(use)

    # A flagged module, once per file.
    def module_use(self, name, node, how):
        module = module_of(name)
        if module and module not in self.reported:
            self.reported.add(module)
            self.add(MODULES[module], node, how + ' ' + module)

    # The dotted name an expression stands for through the imports ('sp.run' is 'subprocess.run'), or None.
    def qualified(self, node):
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return base + '.' + node.attr if base else None
        return None

    # The builtin a bare name calls, unless an import shadows it.
    def builtin(self, node):
        return node.id if isinstance(node, ast.Name) and node.id not in self.aliases else None

    # 'import a.b' binds a; 'import a.b as c' binds c to a.b.
    def visit_Import(self, node):
        for a in node.names:
            self.aliases[a.asname or a.name.split('.')[0]] = a.name if a.asname else a.name.split('.')[0]
            self.module_use(a.name, node, 'imports')

    # 'from a import b' binds b to a.b; relative imports are the plugin's own modules.
    def visit_ImportFrom(self, node):
        if node.level or not node.module:
            return
        for a in node.names:
            if a.name == '*':
                self.module_use(node.module, node, 'imports')
                continue
            full = node.module + '.' + a.name
            self.aliases[a.asname or a.name] = full
            self.module_use(full, node, 'imports')

    # A name or attribute that is itself a use (os.environ, os.system, a flagged module); True when reported.
    def reference(self, node):
        qn = self.qualified(node)
        if qn is None:
            return False
        if qn in ('os.environ', 'os.environb') or qn.startswith(('os.environ.', 'os.environb.')):
            self.add('envAll', node, 'os.environ as a whole')
            return True
        parts = qn.split('.')
        if len(parts) == 2 and parts[0] == 'os' and (parts[1] in OS_CHILD or parts[1].startswith(('exec', 'spawn'))):
            self.add('childProcess', node, qn)
            return True
        module = module_of(qn)
        if module and module not in self.reported:
            self.module_use(qn, node, 'uses')
            return True
        return False

    # Names reach here only outside attributes and handled calls.
    def visit_Name(self, node):
        self.reference(node)

    # The longest chain first, so os.environ.copy is one finding, not two.
    def visit_Attribute(self, node):
        if not self.reference(node):
            self.generic_visit(node)

    # os.environ['X'].
    def visit_Subscript(self, node):
        if self.qualified(node.value) in ('os.environ', 'os.environb'):
            key = node.slice.value if isinstance(node.slice, getattr(ast, 'Index', ())) else node.slice
            name = const_str(key)
            if name is None:
                self.add('envAll', node, 'os.environ[...] with a computed name')
            else:
                self.add('env', node, 'os.environ[%r]' % name, name=name)
            self.visit(node.slice)
            return
        self.generic_visit(node)

    # 'X' in os.environ.
    def visit_Compare(self, node):
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
                and self.qualified(node.comparators[0]) == 'os.environ' and const_str(node.left) is not None:
            name = const_str(node.left)
            self.add('env', node, '%r in os.environ' % name, name=name)
            return
        self.generic_visit(node)

    # A handled call's callee is not visited again (os.environ.get is env, not os.environ as a whole).
    def visit_Call(self, node):
        if self.call(node, self.qualified(node.func), self.builtin(node.func)):
            for child in node.args + [k.value for k in node.keywords]:
                self.visit(child)
        else:
            self.generic_visit(node)

    # The calls with their own rule; True when handled.
    def call(self, node, qn, builtin):
        first = node.args[0] if node.args else None
        if builtin in DYNAMIC:
            self.add('dynamicCode', node, builtin + '()')
            return True
        if builtin == '__import__' or qn == 'importlib.import_module':
            name = const_str(first)
            if name is None:
                self.add('dynamicCode', node, (builtin or qn) + '() with a computed module name')
            else:
                self.module_use(name, node, 'imports')
            return True
        if qn in ('os.getenv', 'os.environ.get', 'os.environ.pop', 'os.environ.setdefault'):
            name = const_str(first)
            if name is None:
                self.add('envAll', node, qn + '() with a computed name')
            else:
                self.add('env', node, '%s(%r)' % (qn, name), name=name)
            return True
        if builtin == 'open' or qn in OPENERS:
            self.fs(node, builtin or qn, first, self.opens_for_write(node, qn))
            return True
        if qn in PATHS:
            parts = [self.static_path(a) for a in node.args]
            path = None if None in parts else os.path.join('', *parts) if parts else ''
            parent = getattr(node, 'parent', None)
            write = isinstance(parent, ast.Attribute) and parent.attr in PATH_WRITES
            self.add('fs', node, self.fs_detail(qn, path, write), path=path, write=write)
            return True
        if qn in FS:
            for mode, arg in zip(FS[qn], node.args):
                self.fs(node, qn, arg, mode == 'w')
            return True
        return False

    # Whether an open call may write: its mode (or os.open's flags); an unknown mode counts as writing.
    def opens_for_write(self, node, qn):
        flags = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg in ('mode', 'flags')), None)
        if qn == 'os.open':
            return flags is not None and any(isinstance(n, ast.Attribute) and n.attr in OS_WRITE_FLAGS for n in ast.walk(flags))
        mode = const_str(flags) if flags is not None else 'r'
        return mode is None or any(c in mode for c in 'wax+')

    # One path argument of an fs call.
    def fs(self, node, fn, arg, write):
        path = self.static_path(arg) if arg is not None else None
        self.add('fs', node, self.fs_detail(fn, path, write), path=path, write=write)

    # The detail line of an fs use.
    def fs_detail(self, fn, path, write):
        what = '%s() with a computed path' % fn if path is None else '%s(%r)' % (fn, path)
        return what + ' for writing' if write else what

    # The path an expression always is (constants, __file__, os.path.join, Path / 'x', .parent), or None.
    def static_path(self, node):
        s = const_str(node)
        if s is not None:
            return s
        if isinstance(node, ast.Name) and node.id == '__file__':
            return self.file
        if isinstance(node, ast.Attribute) and node.attr == 'parent':
            inner = self.static_path(node.value)
            return os.path.dirname(inner) if inner is not None else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = self.static_path(node.left), self.static_path(node.right)
            return os.path.join(left, right) if left is not None and right is not None else None
        if isinstance(node, ast.Call):
            qn = self.qualified(node.func)
            parts = [self.static_path(a) for a in node.args]
            if None in parts or node.keywords:
                return None
            if qn in PATHS or qn == 'os.path.join':
                return os.path.join('', *parts) if parts else ''
            if qn in ('os.path.dirname', 'os.path.abspath', 'os.path.realpath', 'os.path.normpath') and len(parts) == 1:
                return os.path.dirname(parts[0]) if qn == 'os.path.dirname' else parts[0]
            if isinstance(node.func, ast.Attribute) and node.func.attr in ('resolve', 'absolute') and not parts:
                return self.static_path(node.func.value)
        return None


# One file's answer: its uses, or where it does not parse.
def analyze(file):
    try:
        with open(file, 'rb') as f:
            tree = ast.parse(f.read(), file)
    except SyntaxError as e:
        return {'file': file, 'ok': False, 'line': e.lineno or 0, 'message': e.msg}
    except (ValueError, RecursionError, MemoryError) as e:
        return {'file': file, 'ok': False, 'line': 0, 'message': str(e) or type(e).__name__}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent
    analyzer = Analyzer(file)
    try:
        analyzer.visit(tree)
    except RecursionError:
        return {'file': file, 'ok': False, 'line': 0, 'message': 'too deeply nested to analyze'}
    return {'file': file, 'ok': True, 'uses': analyzer.uses}


sys.setrecursionlimit(10000)
json.dump([analyze(f) for f in sys.argv[1:]], sys.stdout)
`;

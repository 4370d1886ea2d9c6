/**
 * The daemon's young generation (V8's semi-spaces), sized for each phase of its life. During the boot
 * burst it stays at its initial 1 MB per semi-space: grown to 16 MB there, it kept ~20 MB more RSS for
 * ~25 s after the start of 100 plugins. Once booted it may grow again under load (V8's default): held
 * at 1 MB, 256 pipelined calls through the control socket spent ~40 % of the daemon's CPU in scavenges
 * (9–11 µs of daemon CPU per call against 6–7 µs), and V8's memory reducer shrinks it back when idle.
 * The growth factor is read at each growth, so it can change after the heap is set up (a size flag cannot).
 */
import { setFlagsFromString } from 'node:v8';

/** V8's own default for --semi-space-growth-factor. */
const V8_DEFAULT_GROWTH = 2;

/** At the daemon's entry, before its boot: no growth. */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Once every plugin has started or been accounted for: V8's default growth. */
export function releaseYoungGeneration(): void {
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
}

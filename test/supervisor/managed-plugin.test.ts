import { describe, it } from 'vitest';
import { scenarios } from './scenarios.js';

// ManagedPlugin on a fake clock with fake hosts: no daemon, no process (the scenarios are in scenarios.ts).
for (const [group, cases] of Object.entries(scenarios)) {
  describe(`ManagedPlugin: ${group}`, () => {
    for (const [name, run] of Object.entries(cases)) it(name, run);
  });
}

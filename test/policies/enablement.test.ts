import { describe, expect, it } from 'vitest';
import { configDisabledReason, disabledReason } from '../../src/policies/enablement.js';

describe('disabledReason', () => {
  it('is null when neither a persisted disable nor the config holds it', () => {
    expect(disabledReason('alpha', { persisted: null, enabledByConfig: true })).toBeNull();
  });

  it('names the config key when the config disables it', () => {
    expect(configDisabledReason('alpha')).toBe('disabled in config (plugins.alpha.enabled: false)');
    expect(disabledReason('alpha', { persisted: null, enabledByConfig: false })).toBe(
      'disabled in config (plugins.alpha.enabled: false)',
    );
  });

  it('puts a persisted disable (the operator\'s, or a spent restart budget) first: only `warden enable` lifts it', () => {
    const persisted = { reason: 'disabled by the operator' };
    expect(disabledReason('alpha', { persisted, enabledByConfig: true })).toBe('disabled by the operator');
    expect(disabledReason('alpha', { persisted, enabledByConfig: false })).toBe('disabled by the operator');
    expect(disabledReason('alpha', { persisted: { reason: null }, enabledByConfig: true })).toBe('disabled');
  });
});

import { ENV_VARS } from '../../src/config';

/** Every RATE_LIMIT_* variable the config knows, set out of reach: for tests that are not about limits. */
export function unlimitedRateLimits(): Record<string, string> {
  return Object.fromEntries(
    ENV_VARS.filter((v) => v.name.startsWith('RATE_LIMIT_')).map((v) => [v.name, '1000000']),
  );
}

/** English for errors; same keys as errors-zh-CN.ts. */
import type { errorsZhCN } from './errors-zh-CN';

export const errorsEn: Record<keyof typeof errorsZhCN, string> = {
  'http.400': 'Bad Request',
  'http.401': 'Unauthorized',
  'http.403': 'Forbidden',
  'http.404': 'Not Found',
  'http.405': 'Method Not Allowed',
  'http.409': 'Conflict',
  'http.410': 'Gone',
  'http.413': 'Payload Too Large',
  'http.415': 'Unsupported Media Type',
  'http.429': 'Too Many Requests',
  'http.500': 'Internal Server Error',
  'http.503': 'Service Unavailable',

  'error.validation-failed': 'Some fields are missing or invalid.',
  'error.duplicate': 'A record with the same value already exists.',
  'error.pledge-not-pending-review':
    'This pledge is no longer awaiting review (another administrator may have decided it).',
  'error.pledge-not-active': 'Only an active pledge can be corrected.',
  'error.pledge-exists': 'This company (USCC) already has a pledge that is pending or active.',
  'error.pledge-changed': 'The pledge changed meanwhile; please reload the page and try again.',
  'error.nothing-to-correct':
    'Nothing to correct: give the name, the English name or the industry.',
  'error.certificate-pending':
    'The certificate is still being issued; please try again in a moment.',
  'error.certificate-not-valid':
    'This certificate is no longer valid; only a valid certificate can be revoked.',
  'error.no-certificate': 'This pledge has no certificate yet.',
  'error.draft-exists': 'A draft already exists; edit or publish it first.',
  'error.initiative-published':
    'This version is published, and a published text never changes. Start a new draft instead.',
  'error.admin-exists': 'An administrator with this e-mail already exists.',
  'error.cannot-disable-self': 'You cannot disable your own account.',
  'error.admin-disabled': 'This administrator account is disabled.',
  'error.no-initiative': 'No initiative has been published yet, so signing is not open.',
};

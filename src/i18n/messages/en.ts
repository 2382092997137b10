/** English. Same keys as zh-CN.ts (the type makes a missing or extra key a compile error). */
import { consoleEn } from './console-en';
import { errorsEn } from './errors-en';
import type { MessageKey } from './zh-CN';

export const en: Record<MessageKey, string> = {
  ...consoleEn,
  ...errorsEn,
  'site.name': 'Enterprise Quality Integrity Initiative',
  'site.fullName': 'Enterprise Quality Integrity Initiative Registry',
  'site.sub': 'Signatory registry',
  'site.description':
    'The online registry of the Enterprise Quality Integrity Initiative: sign as a company, browse the founders and the directory of signatories, verify certificates.',
  skip: 'Skip to main content',
  'lang.name': 'English',
  'lang.switch': 'Change language: ',

  'nav.label': 'Main',
  'nav.home': 'Home',
  'nav.sign': 'Sign',
  'nav.founders': 'Founders',
  'nav.directory': 'Directory',
  'nav.stats': 'Statistics',
  'nav.verify': 'Verify a certificate',
  'nav.account': 'Company area',

  'footer.about':
    'This registry accepts companies’ signatures of the Enterprise Quality Integrity Initiative; the quality association reviews them and issues verifiable certificates. Company details are provided by the signing companies.',
  'footer.api': 'Open API',
  'footer.howToVerify': 'How to check a certificate',

  'how.title': 'How to check a certificate',
  'how.lead':
    'Anyone can check a certificate issued by this registry, without an account. Use any of the three ways below; checking the certificate file is the most thorough.',
  'how.ways': 'Three ways to check',
  'how.qr.title': 'Scan the QR code',
  'how.qr.text':
    'Scanning the QR code on the certificate with a phone opens the certificate’s page on this registry. Make sure the address bar shows this registry’s address ({host}). The page shows the certificate’s status as the registry records it: valid, revoked, withdrawn by the company, or replaced by a newer certificate.',
  'how.serial.title': 'Enter the certificate number',
  'how.serial.text':
    'On the Verify page, enter the number printed on the certificate, for example EQI-2026-000123-F; case, dashes and spaces do not matter. Its last character is a check character: one mistyped digit or two swapped digits are caught. The result is the same as scanning the QR code.',
  'how.upload.title': 'Upload the certificate file',
  'how.upload.text':
    'If you were given the certificate as a PDF file, upload it on the Verify page. The registry checks, one by one, that the file is an original issued here, that nothing in it was changed, and that it agrees with the register. The file is used for this check only and is not kept.',
  'how.compare':
    'Scanning or entering the number shows only that the registry issued a certificate with that number, and its current status: compare the company name and Unified Social Credit Code shown with the certificate in your hands. To be sure the file itself was not changed, upload it.',
  'how.toVerify': 'Go to the Verify page',
  'how.checks.title': 'What each check means',
  'how.checks.lead':
    'After an upload the result page lists the checks below. Only when every one passes is the file a certificate issued by this registry, unchanged, and valid today.',
  'how.check.credential-present':
    'The certificate PDF carries a credential signed by the registry, stating the company, the certificate number and the pledge. Without it the file cannot be checked.',
  'how.check.credential-signature':
    'The credential’s Ed25519 signature is checked with the public keys the registry publishes. Passing means the registry issued the credential and its content is unchanged.',
  'how.check.credential-matches-document':
    'What the certificate page actually shows is compared with the digest of the page recorded in the credential. Passing means the text and graphics on the page are unchanged.',
  'how.check.pdf-signature':
    'The PDF’s digital signature (PAdES) is checked. Passing means the signature covers the whole file and nothing was changed after signing.',
  'how.check.pdf-signer-trusted':
    'The certificate that signed the PDF belongs to this registry, not to someone who signed the file again with their own.',
  'how.check.log-proof':
    'The file’s log-proof.json is checked against the registry’s public transparency log: the checkpoint it carries is signed with the log’s key (the verifier key below), the inclusion proof leads from the certificate’s issue entry to that checkpoint’s root, and the entry names this certificate number and the SHA-256 of this very credential. Passing means the issue of this certificate is publicly recorded, so it cannot be quietly issued twice or taken back.',
  'how.check.serial-known': 'The register holds this certificate number.',
  'how.check.registry-match':
    'The company name, Unified Social Credit Code and other details in the credential agree with the register. This compares the credential; whether the page itself was changed is the check that the credential matches the page.',
  'how.check.status':
    'The register records the certificate as valid today: not revoked, the pledge not withdrawn, and not replaced by a newer certificate.',
  'how.offline.title': 'Checking offline',
  'how.offline.text':
    'To check without uploading the file to a web site, or to check many files automatically, run the command-line tool that comes with this project on your own computer (it needs Node.js 20 and the project’s source code); it does not need the registry’s database:',
  'how.offline.keys':
    'Here jwks.json is the registry’s key set, what GET /.well-known/jwks.json returns, for example:',
  'how.offline.result':
    'It prints VALID and exits with 0 when every check passes, and NOT VALID with exit code 1 when one fails. With --online {url} it also asks the registry for the certificate’s current status. npm run verify -- --help lists every option.',
  'how.keys.title': 'The registry’s public keys',
  'how.keys.text':
    'Credentials are signed with the registry’s Ed25519 signing key; the public keys are published as a JSON Web Key Set at:',
  'how.keys.fingerprint':
    'Every certificate prints its signing key fingerprint (SHA-256, in hexadecimal) at the bottom: the same value as that key’s kid in the key set, written another way, so you can tell which key signed it.',
  'how.log.title': 'Transparency log',
  'how.log.text':
    'Every certificate issued, revoked or withdrawn and every founding number is recorded in a public, append-only transparency log. Each certificate carries the proof that it is in the log, checked by npm run verify; anyone can audit the whole log with npm run log:audit.',
  'how.log.vkey': 'The log’s verifier key:',
  'how.log.checkpoint': 'Its latest signed checkpoint:',
  'how.log.pending':
    'The transparency log is not in operation yet. When it is, its verifier key will be published here.',
  'verify.howLink': 'How to check a certificate: the three ways and what each check means',

  'doc.quoteOpen': '',
  'doc.quoteClose': '',
  'doc.meta': 'Version {version} · published {date}',
  'doc.version': 'Version {version}',
  'doc.sha256': 'Text fingerprint (SHA-256)',
  'doc.otherText': 'Show the Chinese text',

  'home.eyebrow':
    'Since China’s 2009 national Quality Month · first published by a hundred enterprises',
  'home.title': 'Quality as our foundation, integrity as our word',
  'home.lead':
    'Companies sign the Enterprise Quality Integrity Initiative online and commit in public to put quality first and keep their promises. A pledge becomes active after e-mail confirmation and the association’s review, and comes with a verifiable certificate.',
  'home.cta': 'Sign the initiative',
  'home.seeFounders': 'See the founders',
  'home.counts.title': 'At a glance',
  'home.counts.active': 'Signatories',
  'home.counts.founders': 'Founders',
  'home.counts.provinces': 'Provinces',
  'home.foundingLeft':
    'Founding places left: {n}. The first 100 pledges to become active receive a permanent founding number.',
  'home.steps.title': 'How signing works',
  'home.steps.1.title': 'Sign online',
  'home.steps.1.text':
    'Give your company’s Unified Social Credit Code, name and signatory, then read and accept the full text.',
  'home.steps.2.title': 'Confirm by e-mail',
  'home.steps.2.text': 'Open the confirmation link sent to the signatory (valid for 48 hours).',
  'home.steps.3.title': 'Review',
  'home.steps.3.text':
    'The quality association checks the company’s details; once approved, the pledge is active.',
  'home.steps.4.title': 'Certificate',
  'home.steps.4.text':
    'Active signatories are listed in the directory and receive a certificate with a QR code that anyone can verify.',

  'form.optional': '(optional)',
  'form.summaryTitle': 'Please correct the following and submit again',
  'form.titleErrorPrefix': 'Error: ',
  'form.required': '{label} is required.',
  'form.choose': '{label} is required: choose one.',
  'form.mustAgree': 'Tick the box to accept the initiative.',
  'form.tooShort': '{label} needs at least {min} characters.',
  'form.tooLong': '{label} can have at most {max} characters.',
  'form.email': 'Enter a valid e-mail address, like name@example.com.',
  'form.url': 'Enter a web address starting with http:// or https://.',
  'form.phone': 'A phone number may only contain digits, spaces, +, - and brackets.',
  'form.invalid': '{label} is not in the right format.',
  'form.hiddenChars':
    '{label} contains hidden control characters (often pasted along with the text). Please type it in again.',
  'form.noLetters': '{label} must contain letters or digits.',

  'uscc.length': 'A Unified Social Credit Code has {expected} characters; this one has {n}.',
  'uscc.charset':
    'Character {pos} (“{ch}”) is not allowed: the code uses digits and capital letters except I, O, S, V and Z.',
  'uscc.checksum':
    'The check character (the last one) of the code does not match: the code is probably mistyped. Please compare it with the business licence.',
  'uscc.province': 'Characters 3–4 (“{code}”) are not a valid province code.',
  'uscc.authority':
    'Character 1 (“{ch}”) is not a registration authority code: a company’s code starts with 9 (market regulation); other authorities use 1–8, A, N or Y.',
  'uscc.type':
    'Character 2 (“{ch}”) is not an organisation type registered by authority {authority} (for a code starting with 9: 1 enterprise, 2 individual business, 3 farmers’ co-operative).',
  'uscc.region':
    'Characters 3–8 (“{code}”) are not an administrative division code of a province: please compare them with the business licence.',
  'uscc.orgCheck':
    'Character 17, the check digit of the organisation code (characters 9–16), does not match: the code is probably mistyped. Please compare it with the business licence.',
  'uscc.ok': 'Valid code · registered in {province}',

  'sign.title': 'Sign the initiative',
  'sign.lead':
    'Fill in the form on behalf of your company. We then send a confirmation link to the signatory’s e-mail address. Fields marked * are required.',
  'sign.company': 'Company',
  'sign.uscc.label': 'Unified Social Credit Code',
  'sign.uscc.hint':
    '18 characters, as on the business licence, e.g. 91350100M000100Y43. The province is read from the code.',
  'sign.uscc.taken':
    'This code already has a confirmed pledge that is under review or active: there is no need to sign again. Use the company area to manage it; if that pledge was not made by your company, contact the association.',
  'sign.name.label': 'Company name (Chinese)',
  'sign.name.hint': 'As registered on the business licence.',
  'sign.nameEn.label': 'English name',
  'sign.industry.label': 'Industry',
  'sign.industry.hint': 'Section of the national industry classification (GB/T 4754-2017).',
  'sign.industry.placeholder': 'Choose an industry section',
  'sign.address.label': 'Address',
  'sign.website.label': 'Website',
  'sign.website.hint': 'For example https://www.example.com',
  'sign.signatory': 'Signatory',
  'sign.signatory.hint':
    'The signatory should be the company’s legal representative or a person they have authorised.',
  'sign.signatoryName.label': 'Full name',
  'sign.title.label': 'Job title',
  'sign.title.hint': 'For example: Chair, General Manager, Legal Representative.',
  'sign.email.label': 'E-mail address',
  'sign.email.hint':
    'The confirmation link and the review result are sent here; it is also how you sign in to the company area.',
  'sign.phone.label': 'Phone',
  'sign.consent': 'The initiative',
  'sign.agree.label':
    'I have read the Enterprise Quality Integrity Initiative (version {version}) in full and sign it on behalf of the company.',
  'sign.agree.short': 'Acceptance',
  'sign.stale':
    'The initiative has been updated to version {version}. Please read the new version and tick the box again.',
  'sign.evidence': 'Evidence of authority',
  'sign.evidence.hint':
    'The association checks from these that the signatory may act for the company. PDF, JPEG or PNG, at most 10 MB each; the type is read from the file, not its name. If the form comes back with errors, choose the files again.',
  'sign.letter.label': 'Authorisation letter',
  'sign.letter.hint':
    'On company letterhead with the company seal, naming the signatory and their title.',
  'sign.letter.template':
    'Download the letter template (in Chinese, with the company name and code filled in)',
  'sign.licence.label': 'Business licence',
  'evidence.required': 'Upload the {label}.',
  'evidence.empty': 'The {label} file is empty; choose it again.',
  'evidence.tooLarge': 'The {label} file is over 10 MB; compress it or scan at a lower resolution.',
  'evidence.wrongType':
    'The {label} must be a PDF, JPEG or PNG file (read from its content; renaming does not help).',
  'evidence.truncated':
    'The {label} file is incomplete (cut off before its end); scan or save it again.',
  'evidence.tooManyPixels':
    'The {label} image is too large: at most 12,000 pixels a side and 60 megapixels.',
  'evidence.malformed':
    'The upload was incomplete or malformed; choose the {label} again and submit.',
  'sign.submit': 'Sign',
  'sign.submitHint': 'By signing you confirm that the details given are true and accurate.',

  'letter.title': 'Authorisation letter template',
  'letter.lead':
    'Print the letter below on company letterhead, have the legal representative sign it and apply the company seal, then scan or photograph it and upload it with the sign form.',
  'letter.fill': 'Fill in the letter',
  'letter.print':
    'Use your browser’s Print command to print this page. The letter itself is in Chinese.',
  'sent.title': 'Check your e-mail',
  'sent.lead':
    'We have sent a confirmation e-mail to the signatory. Please open the link in it within 48 hours to confirm the pledge.',
  'sent.noMail':
    'Nothing arrived? Check the spam folder. If the link expires, you can simply sign again.',

  'next.title': 'What happens next',
  'next.signed': 'Signed',
  'next.confirm': 'E-mail confirmation',
  'next.confirm.text': 'Open the link in the confirmation e-mail and press “Confirm the pledge”.',
  'next.review': 'Review by the association',
  'next.review.text':
    'The quality association checks the company’s details, usually within a few working days, and tells you the result by e-mail.',
  'next.certificate': 'Active, with a certificate',
  'next.certificate.text':
    'Once approved, the pledge is active, the company is listed in the directory, and the certificate can be downloaded from the company area.',

  'confirm.title': 'Confirm the pledge',
  'confirm.lead':
    'Press the button below to confirm your company’s signature of the Enterprise Quality Integrity Initiative.',
  'confirm.button': 'Confirm the pledge',
  'confirm.hint':
    'After confirmation the pledge goes to the association for review. If you did not sign, just close this page.',
  'confirm.signAgain': 'Sign again',
  'confirm.resendLink': 'Send the confirmation e-mail again',
  'resend.title': 'Send the confirmation e-mail again',
  'resend.lead':
    'Enter the signatory’s address given when signing. If a pledge from it is still awaiting confirmation, we send a new confirmation e-mail; the earlier link then stops working.',
  'resend.email.label': 'Signatory’s e-mail address',
  'resend.email.hint': 'The address given in the sign form.',
  'resend.submit': 'Send the confirmation e-mail',
  'resendSent.title': 'Check your e-mail',
  'resendSent.lead':
    'If a pledge from this address is awaiting confirmation, a new confirmation e-mail is on its way; its link works for 48 hours. At most 3 are sent per address a day.',
  'resendSent.hint':
    'Still nothing? Check the spam folder, and that the address is the one given when signing.',
  'confirm.failed.incomplete.title': 'Incomplete link',
  'confirm.failed.incomplete.text':
    'Part of this confirmation link is missing. Copy the whole link from the e-mail, or click it there.',
  'confirm.failed.invalid.title': 'Invalid link',
  'confirm.failed.invalid.text':
    'This confirmation link is not valid. Please use the link in the confirmation e-mail.',
  'confirm.failed.used.title': 'Link already used',
  'confirm.failed.used.text':
    'This link has been used and the pledge is confirmed. Sign in to the company area to follow its progress.',
  'confirm.failed.expired.title': 'Link expired',
  'confirm.failed.expired.text':
    'Confirmation links are valid for 48 hours and this one has expired. Please sign again.',
  'confirmed.title': 'Pledge confirmed',
  'confirmed.review':
    'Thank you. The pledge now goes to the quality association for review; the signatory will be told the result by e-mail.',
  'confirmed.active': 'Thank you. The pledge is active and the company is listed in the directory.',
  'confirmed.account': 'Follow it in the company area',

  'table.number': 'No.',
  'table.sequence': 'Sequence',
  'table.company': 'Company',
  'table.uscc': 'Unified Social Credit Code',
  'table.province': 'Province',
  'table.industry': 'Industry',
  'table.activated': 'Active since',
  'table.status': 'Status',
  'table.certificate': 'Certificate',

  'status.pending_confirmation': 'Awaiting confirmation',
  'status.pending_review': 'Under review',
  'status.activating': 'Activating',
  'status.active': 'Active',
  'status.withdrawn': 'Withdrawn',
  'status.revoked': 'Revoked',
  'status.rejected': 'Not approved',
  'status.expired': 'Expired',
  'status.cancelled': 'Cancelled by the association',
  'badge.founder': 'Founder No. {n}',

  'founders.title': 'Founding signatories',
  'founders.lead':
    'The first {limit} pledges to become active are the initiative’s founding signatories, numbered in the order they became active. A number never changes.',
  'founders.caption': 'Founding signatories by number',
  'founders.note':
    'A founder that withdraws or is revoked keeps its number and is shown with its current status.',
  'founders.empty': 'No pledge is active yet. The first to become active will be founder No. 1.',
  'founders.download': 'Download the roster of founders (PDF)',
  'founders.downloadHint': 'Bilingual and printable; no personal data of signatories.',

  'directory.title': 'Directory of signatories',
  'directory.lead':
    'Every company whose pledge is active, in the order they became active. Search by name or Unified Social Credit Code, and filter by province and industry.',
  'directory.searchLabel': 'Search the signatories',
  'directory.q.label': 'Company name or Unified Social Credit Code',
  'directory.allProvinces': 'All provinces',
  'directory.allIndustries': 'All industries',
  'directory.search': 'Search',
  'directory.clear': 'Clear',
  'directory.count.one': '{n} company, showing {from}–{to}',
  'directory.count.other': '{n} companies, showing {from}–{to}',
  'directory.none': 'No company matches.',
  'directory.caption': 'Directory of signatories',
  'directory.pageN': 'page {page}',
  'directory.download': 'Download the open data (CSV)',
  'directory.downloadHint': 'Every active signatory, without any personal data of signatories.',
  'directory.backToFirst': 'Nothing on this page; back to page 1',
  'directory.verifyLink': '{serial} (verify the certificate of {name})',
  'pagination.label': 'Pages',
  'pagination.prev': 'Previous',
  'pagination.next': 'Next',
  'pagination.page': 'Page {page}',

  'stats.title': 'Statistics',
  'stats.lead': 'Live figures for active pledges. Days are counted in China Standard Time.',
  'stats.industries': 'Industries',
  'stats.empty': 'No pledge is active yet, so there is nothing to show.',
  'stats.overTime': 'Signatories over time',
  'stats.cumulative.title': 'Signatories in total',
  'stats.cumulative.desc': 'From {from} to {to} the number of signatories grew to {n}.',
  'stats.added.day': 'New signatories per day',
  'stats.added.month': 'New signatories per month',
  'stats.added.desc': 'Pledges that became active in each period.',
  'stats.monthLabel': '{month}/{year}',
  'stats.showData': 'Show the data as a table',
  'stats.col.period': 'Period',
  'stats.col.added': 'New',
  'stats.col.cumulative': 'Total',
  'stats.download': 'Download the daily figures (CSV)',
  'stats.byProvince': 'By province',
  'stats.byIndustry': 'By industry',

  'verify.title': 'Verify a certificate',
  'verify.lead':
    'Enter the number printed on a certificate to check that this registry issued it and whether it is valid today.',
  'verify.serial.label': 'Certificate number',
  'verify.serial.hint': 'For example EQI-2026-000123-F; case, dashes and spaces do not matter.',
  'verify.submit': 'Verify',
  'verify.qrHint':
    'You can also scan the QR code on the certificate with a phone to open the result directly.',
  'verify.again': 'Verify another certificate',
  'verify.development': 'Development certificate: signed with a development key, of no validity',
  'verdict.valid.title': 'Valid certificate',
  'verdict.valid.text':
    'This certificate was issued by this registry and the company’s pledge is active.',
  'verdict.valid.mark': '✓',
  'verdict.revoked.title': 'Certificate revoked',
  'verdict.revoked.text':
    'The quality association has revoked this certificate. It is no longer valid.',
  'verdict.revoked.mark': '✕',
  'verdict.withdrawn.title': 'Pledge withdrawn',
  'verdict.withdrawn.text':
    'The company has withdrawn its pledge. The certificate is no longer valid.',
  'verdict.withdrawn.mark': '✕',
  'verdict.superseded.title': 'Certificate replaced',
  'verdict.superseded.text':
    'A newer certificate replaces this one. Please verify the new certificate.',
  'verdict.superseded.mark': '!',
  'verdict.not_found.title': 'No such certificate',
  'verdict.not_found.text':
    'This registry has not issued a certificate with this number. Check that it was typed correctly; do not rely on a certificate of doubtful origin.',
  'verdict.not_found.mark': '?',
  'verdict.mistyped.title': 'Mistyped number',
  'verdict.mistyped.text':
    'The check character does not match: one character was probably mistyped. Please enter the number again as printed on the certificate.',
  'verdict.mistyped.mark': '!',
  'verdict.mistyped.retry': 'Enter the certificate number again',
  'verdict.version': 'Initiative version',
  'verdict.issuedAt': 'Issued',
  'verdict.endedAt': 'Ended',
  'verdict.reason': 'Reason',
  'verdict.supersededBy': 'Replaced by',
  'upload.title': 'Check a certificate file',
  'upload.lead':
    'Upload a certificate PDF to check, one by one, its digital signatures, whether its content was altered, and its current status in the registry.',
  'upload.file.label': 'Certificate file (PDF)',
  'upload.file.hint':
    'The PDF issued by this registry, at most {max} MB. The file is only checked, never stored.',
  'upload.submit': 'Upload and check',
  'upload.error.not-multipart': 'Please upload the certificate file with the form on this page.',
  'upload.error.malformed':
    'The upload did not arrive complete. Please choose the file again and retry.',
  'upload.error.no-file': 'Choose the certificate PDF to check.',
  'upload.error.empty': 'The chosen file is empty (0 bytes). Choose the certificate PDF.',
  'upload.error.not-pdf':
    'The chosen file is not a PDF. Upload the certificate PDF issued by this registry.',
  'upload.error.too-large':
    'The file is larger than {max} MB. Certificates from this registry are far smaller; please check the file.',
  'upload.error.extra-parts':
    'The form sent more than the one certificate file. Please choose the file again and retry.',
  'upload.error.too-complex':
    'This PDF cannot be checked: {reason}. Certificates from this registry are simple files; please check the file.',
  'upload.limit.inflated': 'its compressed content expands to far more than a certificate holds',
  'upload.limit.objects': 'it has far more objects than a certificate has',
  'upload.limit.nesting': 'its objects are nested too deeply',
  'upload.limit.time': 'checking it takes too long',
  'upload.limit.memory': 'checking it needs too much memory',
  'upload.error.busy':
    'Many certificates are being checked right now. Please try again in a moment.',
  'upload.result.title': 'Certificate file check',
  'upload.valid.title': 'Genuine and valid',
  'upload.valid.text':
    'Every check passed: this file is an unaltered certificate issued by this registry, and the certificate is valid today.',
  'upload.invalid.title': 'The certificate failed the check',
  'upload.invalid.text':
    'At least one check failed (see each below). Do not rely on this file as a valid certificate.',
  'upload.unreadable.title': 'Not a certificate of this registry',
  'upload.unreadable.text':
    'Nothing in this PDF marks it as a certificate of this registry: the file may be damaged, or it was not issued here.',
  'upload.checks': 'Checks',
  'upload.pass': 'Passed',
  'upload.fail': 'Failed',
  'upload.reason': 'Technical detail:',
  'upload.check.credential-present': 'The file carries a digital credential from this registry',
  'upload.check.credential-signature':
    'The credential’s signature verifies with the registry’s published key',
  'upload.check.credential-matches-document':
    'The credential matches what the page shows (the page was not altered)',
  'upload.check.pdf-signature':
    'The PDF’s digital signature covers the whole file and verifies (the file was not altered)',
  'upload.check.pdf-signer-trusted': 'The PDF was signed with the registry’s certificate',
  'upload.check.log-proof':
    'The certificate’s issue is recorded in the registry’s public transparency log',
  'upload.check.serial-known':
    'The certificate number in the credential was issued by this registry',
  'upload.check.registry-match':
    'The details in the credential match the registry’s record (the credential is compared, not the page)',
  'upload.check.status': 'The certificate is valid today, as the register records it',
  'upload.check.other': 'Check {name}',
  'upload.means': 'What this means:',
  'upload.means.credential-present':
    'Only that the file carries a credential; whether it can be trusted and belongs to this page is in the other checks.',
  'upload.means.credential-signature':
    'Only that the credential itself comes from this registry unchanged; whether the page agrees with it is the page check.',
  'upload.means.credential-matches-document':
    'The text and fonts on the page are those recorded in the credential.',
  'upload.means.pdf-signature':
    'Only that the file was not changed after it was signed; not who signed it or whether the page is true.',
  'upload.means.pdf-signer-trusted': 'The PDF was signed with this registry’s certificate.',
  'upload.means.log-proof':
    'Only that a certificate with this credential was publicly logged; this file failed other checks and does not prove that certificate.',
  'upload.means.serial-known':
    'Only that the number in the credential was issued by this registry; not that this file is that certificate.',
  'upload.means.registry-match':
    'Only the credential inside the file was compared with the record, not what the page shows; whether the page was changed is the page check.',
  'upload.means.status':
    'Only that the certificate with this number is valid in the register; this file failed other checks and does not prove that certificate.',
  'upload.reason.not-pdf': 'The file is not a PDF.',
  'upload.reason.pdf-encrypted': 'The PDF is encrypted and cannot be checked.',
  'upload.reason.pdf-unreadable': 'The PDF is damaged and cannot be read.',
  'upload.reason.attachments-unreadable': 'The file’s attachments cannot be read.',
  'upload.reason.no-credential': 'The file carries no credential (credential.jws).',
  'upload.reason.no-verified-credential': 'There is no trustworthy credential to check this with.',
  'upload.reason.credential-malformed': 'The credential is malformed.',
  'upload.reason.credential-unsupported-alg':
    'The credential uses a signature algorithm this registry does not use.',
  'upload.reason.credential-unknown-key':
    'The credential was signed with a key this registry has not published.',
  'upload.reason.credential-bad-signature':
    'The credential’s signature does not match: it was changed, or not issued by this registry.',
  'upload.reason.credential-bad-payload':
    'The credential’s content is not that of a certificate of this registry.',
  'upload.reason.page-mismatch':
    'The page differs from what the credential records: the page was edited, or the credential was taken from another certificate.',
  'upload.reason.page-unreadable': 'The certificate page cannot be read.',
  'upload.reason.signature-missing': 'The file has no PDF signature.',
  'upload.reason.signature-malformed': 'The PDF signature is malformed.',
  'upload.reason.signature-unreadable': 'The PDF signature cannot be read.',
  'upload.reason.signature-partial':
    'The signature does not cover the whole file: content was appended after signing.',
  'upload.reason.digest-mismatch': 'The file was changed after it was signed.',
  'upload.reason.signature-invalid': 'The PDF signature does not match its certificate.',
  'upload.reason.signer-untrusted':
    'The PDF was signed with a certificate that is not this registry’s.',
  'upload.reason.no-log-proof': 'The file carries no transparency-log proof (log-proof.json).',
  'upload.reason.log-proof-malformed': 'The transparency-log proof is malformed.',
  'upload.reason.no-vkey': 'This registry has no transparency log to check the proof against.',
  'upload.reason.bad-vkey': 'The transparency log’s verifier key cannot be used.',
  'upload.reason.checkpoint-unverified':
    'The log checkpoint in the file is not signed by this registry’s log.',
  'upload.reason.inclusion-invalid':
    'The inclusion proof does not lead to the signed checkpoint: the proof was altered.',
  'upload.reason.entry-malformed': 'The logged entry in the proof is not a log entry.',
  'upload.reason.entry-mismatch':
    'The logged entry is for another certificate or another credential.',
  'upload.reason.serial-unknown': 'This registry has issued no certificate numbered {serial}.',
  'upload.reason.no-serial':
    'There is no trustworthy credential to read a certificate number from.',
  'upload.reason.registry-mismatch':
    'The details in the credential differ from the registry’s record.',
  'upload.reason.nothing-to-compare':
    'There is no trustworthy credential to compare with the record.',
  'upload.reason.certificate-revoked': 'The certificate has been revoked.',
  'upload.reason.certificate-withdrawn':
    'The company withdrew its pledge; the certificate is no longer valid.',
  'upload.reason.certificate-superseded': 'The certificate has been replaced by a new one.',
  'upload.reason.unknown-certificate': 'The register holds no such certificate.',
  'upload.openStatus': 'See the certificate’s current status',
  'upload.again': 'Check another file',

  'login.title': 'Sign in to the company area',
  'login.lead':
    'There is no password: enter the e-mail address used when signing and we will send a one-time sign-in link.',
  'login.email.label': 'E-mail address',
  'login.email.hint': 'The signatory’s address given when signing.',
  'login.submit': 'Send the sign-in link',
  'login.expired': 'Your session has ended. Please sign in again.',
  'login.notSigned': 'Not signed yet?',
  'loginSent.title': 'Check your e-mail',
  'loginSent.lead':
    'If this address belongs to a company with a confirmed pledge, we have sent a sign-in e-mail. The link works once, for 15 minutes.',
  'loginSent.hint':
    'Nothing arrived? Check the spam folder, and that the address is the one given when signing.',
  'loginVerify.title': 'Sign in to the company area',
  'loginVerify.lead': 'Press the button below to sign in.',
  'loginVerify.button': 'Sign in',
  'loginVerify.choose.title': 'Which company?',
  'loginVerify.choose.lead':
    'Your address signs for several companies. Choose the one to act for now (you can sign in again for another).',
  'loginVerify.newLink': 'Get a new sign-in link',
  'loginVerify.failed.incomplete.title': 'Incomplete link',
  'loginVerify.failed.incomplete.text':
    'Part of this sign-in link is missing. Please click the link in the e-mail.',
  'loginVerify.failed.invalid.title': 'Invalid link',
  'loginVerify.failed.invalid.text': 'This sign-in link is not valid. Please ask for a new one.',
  'loginVerify.failed.used.title': 'Link already used',
  'loginVerify.failed.used.text': 'A sign-in link works only once. Please ask for a new one.',
  'loginVerify.failed.expired.title': 'Link expired',
  'loginVerify.failed.expired.text':
    'Sign-in links are valid for 15 minutes. Please ask for a new one.',

  'me.title': 'Company area',
  'me.logout': 'Sign out',
  'me.none': 'Your company has not signed the initiative yet.',
  'me.withdrawn': 'The pledge has been withdrawn.',
  'me.signatory': 'Signatory',
  'me.signedAt': 'Signed',
  'me.history': 'History',
  'me.reasonLine': 'Reason: {reason}',
  'me.explain.pending_confirmation':
    'Waiting for the signatory to open the link in the confirmation e-mail.',
  'me.explain.pending_review': 'Confirmed, and waiting for the quality association’s review.',
  'me.explain.activating': 'The pledge is becoming active; reload in a moment.',
  'me.explain.active': 'The pledge is active and the company is listed in the directory.',
  'me.explain.withdrawn': 'Your company has withdrawn its pledge. You can sign again at any time.',
  'me.explain.revoked': 'The quality association has revoked this pledge.',
  'me.explain.rejected':
    'The pledge was not approved. If some details were wrong, correct them and sign again.',
  'me.explain.cancelled':
    'The quality association has cancelled this pledge (the e-mail it sent gives the reason). You can sign again at any time.',
  'me.explain.expired':
    'The confirmation link expired, so the pledge did not take effect. You can sign again.',
  'me.withdraw.title': 'Withdraw the pledge',
  'me.withdraw.text':
    'After withdrawing, your company is removed from the directory and its certificate stops being valid. This cannot be undone.',
  'me.withdraw.founder':
    'Your company is founder No. {n}: it keeps the number and is shown as withdrawn.',
  'me.withdraw.reason.label': 'Reason for withdrawing',
  'me.withdraw.reason.hint': '2 to 500 characters; it is kept in the history.',
  'me.withdraw.submit': 'Withdraw the pledge',
  'me.certificate.title': 'Certificate',
  'me.certificate.issuing':
    'Your certificate is being issued; this usually takes less than a minute. Please reload this page shortly.',
  'me.certificate.text':
    'The certificate is a PDF carrying the registry’s digital signature and a QR code; anyone can verify it online.',
  'me.certificate.download': 'Download the certificate (PDF)',
  'me.certificate.verifyLink': 'Open its verification page',
  'me.certificate.ended': 'This certificate is no longer valid.',

  'actor.association': 'Quality association',
  'actor.company': 'Company',
  'actor.signatory': 'Signatory',
  'actor.system': 'System',

  'error.home': 'Back to the home page',
  'error.reference': 'Reference:',
  'error.4xx.title': 'Something is wrong with the request',
  'error.4xx.message':
    'This request cannot be processed. Check the address or go back to the home page.',
  'error.5xx.title': 'Something went wrong on our side',
  'error.5xx.message':
    'It is not your fault. Please try again later; if it keeps happening, contact us and quote the reference below.',
  'error.400.title': 'Something is wrong with the request',
  'error.400.message':
    'What was sent, or a parameter in the address, is not valid. Go back, check it and try again.',
  'error.401.title': 'Please sign in',
  'error.401.message': 'Sign in to the company area first.',
  'error.403.title': 'Not allowed',
  'error.403.message': 'You are not allowed to do this.',
  'error.404.title': 'Page not found',
  'error.404.message':
    'The page you are looking for does not exist or has moved. Check the address, or start again from the home page.',
  'error.405.title': 'Not supported',
  'error.405.message': 'This address does not support that action.',
  'error.410.title': 'Link expired',
  'error.410.message': 'This link has expired.',
  'error.413.title': 'Too much data',
  'error.413.message': 'What was sent is larger than allowed. Please shorten it and try again.',
  'error.429.title': 'Too many requests',
  'error.429.message':
    'Too many requests came from your address in a short time. Please wait a minute and try again.',
  'error.500.title': 'Something went wrong on our side',
  'error.500.message':
    'It is not your fault. Please try again later; if it keeps happening, contact us and quote the reference below.',
  'error.503.title': 'Temporarily unavailable',
  'error.503.message': 'The service is temporarily unavailable. Please try again later.',
  'error.csrf.title': 'The form has expired',
  'error.csrf.message':
    'For your security, forms carry a token that was missing or out of date. Go back, reload the page and submit again.',
};

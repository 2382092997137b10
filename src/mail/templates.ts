/** The registry's e-mails, Chinese first and English second. User-supplied text is escaped in HTML. */
import { escapeHtml } from '../text/html';
import type { MailMessage } from './outbox';

const SIGNATURE_ZH = '企业质量诚信倡议 登记平台';
const SIGNATURE_EN = 'Enterprise Quality Integrity Initiative Registry';

/** `secret`: the link signs someone in or confirms something, so the outbox forgets it once sent. */
function build(
  to: string,
  subject: string,
  zh: string[],
  en: string[],
  link?: string,
  secret = false,
): MailMessage {
  const text = [...zh, '', ...en, '', link ?? '', '', `— ${SIGNATURE_ZH} / ${SIGNATURE_EN}`]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  const para = (lines: string[]): string => lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('');
  const button = link ? `<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>` : '';
  const html = `<!doctype html><html lang="zh-CN"><body>${para(zh)}<hr>${para(en)}${button}<p>— ${SIGNATURE_ZH} / ${SIGNATURE_EN}</p></body></html>`;
  return secret && link ? { to, subject, text, html, link } : { to, subject, text, html };
}

export function confirmPledgeMail(p: {
  to: string;
  companyName: string;
  signatoryName: string;
  link: string;
  expiresHours: number;
}): MailMessage {
  return build(
    p.to,
    `请确认签署《企业质量诚信倡议书》 / Please confirm your pledge`,
    [
      `${p.signatoryName}，您好：`,
      `您代表「${p.companyName}」签署了《企业质量诚信倡议书》。请在 ${p.expiresHours} 小时内打开以下链接确认；确认后将由协会审核，审核通过即颁发证书。`,
      '如果不是您本人操作，请忽略本邮件。',
    ],
    [
      `Dear ${p.signatoryName},`,
      `You signed the Enterprise Quality Integrity Initiative on behalf of "${p.companyName}". Please confirm within ${p.expiresHours} hours by opening the link below. The association then reviews the pledge and issues a certificate.`,
      'If this was not you, ignore this e-mail.',
    ],
    p.link,
    true,
  );
}

/** One link for every company the contact may act for; with several, they choose after opening it. */
export function loginLinkMail(p: {
  to: string;
  companies: Array<{ companyName: string; uscc: string }>;
  link: string;
  expiresMinutes: number;
}): MailMessage {
  const zhList = p.companies
    .map((c) => `「${c.companyName}」（统一社会信用代码 ${c.uscc}）`)
    .join('、');
  const enList = p.companies.map((c) => `"${c.companyName}" (USCC ${c.uscc})`).join(', ');
  const several = p.companies.length > 1;
  return build(
    p.to,
    several
      ? '登录链接 / Your sign-in link'
      : `登录链接：${p.companies[0].companyName} / Your sign-in link`,
    [
      `您将以${zhList}签署人的身份登录企业中心${several ? '，打开链接后请选择企业' : ''}。请在 ${p.expiresMinutes} 分钟内打开以下链接（仅可使用一次）。`,
      '如果不是您本人操作，请忽略本邮件。',
    ],
    [
      `This link signs you in to the company area as the signatory of ${enList}${several ? '; you choose the company after opening it' : ''}. Open it within ${p.expiresMinutes} minutes (it works once).`,
      'If this was not you, ignore this e-mail.',
    ],
    p.link,
    true,
  );
}

export function pledgeDecisionMail(p: {
  to: string;
  companyName: string;
  approved: boolean;
  reason?: string;
  link: string;
}): MailMessage {
  return p.approved
    ? build(
        p.to,
        '签署已通过审核 / Your pledge is active',
        [`「${p.companyName}」的签署已通过协会审核，现已生效，可在企业中心下载证书。`],
        [
          `The pledge of "${p.companyName}" has been approved and is now active. You can download the certificate from the company area.`,
        ],
        p.link,
      )
    : build(
        p.to,
        '签署未通过审核 / Your pledge was not approved',
        [`「${p.companyName}」的签署未通过审核。原因：${p.reason ?? '—'}`],
        [`The pledge of "${p.companyName}" was not approved. Reason: ${p.reason ?? '—'}`],
        p.link,
      );
}

/**
 * The pledge is active: its founding number (if any) and sequence, the certificate serial when
 * already issued (else that it follows), and where anyone can verify it.
 */
export function approvalMail(p: {
  to: string;
  companyName: string;
  uscc: string;
  foundingNumber: number | null;
  sequence: number | null;
  serial: string | null;
  publicUrl: string;
}): MailMessage {
  const zh = [`「${p.companyName}」（统一社会信用代码 ${p.uscc}）的签署已通过协会审核，现已生效。`];
  const en = [
    `The pledge of "${p.companyName}" (USCC ${p.uscc}) has been approved and is now active.`,
  ];
  if (p.foundingNumber !== null) {
    zh.push(`贵企业是第 ${p.foundingNumber} 号发起企业。`);
    en.push(`Your company is founding signatory No. ${p.foundingNumber}.`);
  }
  if (p.sequence !== null) {
    zh.push(`签署序号：${p.sequence}。`);
    en.push(`Sequence number: ${p.sequence}.`);
  }
  const verify = p.serial ? `${p.publicUrl}/verify/${p.serial}` : `${p.publicUrl}/verify`;
  if (p.serial) {
    zh.push(`证书编号：${p.serial}。任何人可在 ${verify} 查验。`);
    en.push(`Certificate serial: ${p.serial}. Anyone can verify it at ${verify}.`);
  } else {
    zh.push(
      `证书编号将在证书签发后另行通知，届时可在企业中心下载证书，任何人可在 ${verify} 按编号查验。`,
    );
    en.push(
      `The certificate serial follows once the certificate is issued; you can then download it from the company area, and anyone can check it by serial at ${verify}.`,
    );
  }
  return build(p.to, '签署已通过审核 / Your pledge is active', zh, en, `${p.publicUrl}/me`);
}

/** The association cancelled a pledge before deciding on it (e.g. signed without authority). */
export function pledgeCancelledMail(p: {
  to: string;
  companyName: string;
  uscc: string;
  reason: string;
  link: string;
}): MailMessage {
  return build(
    p.to,
    '签署已被协会取消 / Your pledge was cancelled',
    [
      `「${p.companyName}」（统一社会信用代码 ${p.uscc}）的签署已被协会取消。原因：${p.reason}`,
      '如确系本企业签署，可附授权书重新签署。',
    ],
    [
      `The pledge of "${p.companyName}" (USCC ${p.uscc}) was cancelled by the association. Reason: ${p.reason}`,
      'If your company did sign, you may sign again with an authorisation letter.',
    ],
    p.link,
  );
}

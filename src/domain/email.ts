/**
 * E-mail addresses as evidence: the domain of a signatory's address, and whether it belongs to
 * a public free-mail service (anyone can open an account there, so it says nothing about the
 * company, and many different companies share it).
 */

/** Public free-mail domains common in China and abroad. */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'qq.com',
  'foxmail.com',
  '163.com',
  '126.com',
  'yeah.net',
  'vip.163.com',
  'vip.126.com',
  '188.com',
  'sina.com',
  'sina.cn',
  'vip.sina.com',
  'sohu.com',
  '139.com',
  '189.cn',
  'wo.cn',
  'aliyun.com',
  'tom.com',
  '21cn.com',
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'icloud.com',
  'me.com',
  'proton.me',
  'protonmail.com',
]);

/** The lower-case domain of an address (the part after the last @). */
export function emailDomain(email: string): string {
  return email
    .slice(email.lastIndexOf('@') + 1)
    .trim()
    .toLowerCase();
}

export function isFreeMail(email: string): boolean {
  return FREE_MAIL_DOMAINS.has(emailDomain(email));
}

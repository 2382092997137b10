/** A display string in Chinese with an optional English form. */
export interface Bilingual {
  zh: string;
  en?: string;
}

/** Everything a certificate certifies. All text is user/registry data: it is
 * drawn as glyphs only, never interpreted. */
export interface CertificateData {
  /** `EQI-2026-000123-F`, see serial.ts */
  serial: string;
  company: {
    name: string;
    nameEn?: string;
    /** 18-character Unified Social Credit Code */
    uscc: string;
    province: Bilingual;
    industry: Bilingual;
  };
  signatory: {
    name: string;
    title: Bilingual;
  };
  initiative: {
    title: Bilingual;
    /** e.g. "1.0" */
    version: string;
    /** hex SHA-256 of the exact initiative text the pledge binds to */
    sha256: string;
  };
  /** when the pledge became active */
  activatedAt: Date | string;
  /** when this certificate was issued */
  issuedAt: Date | string;
  /** 1–100 for founding signatories (发起企业), else null/undefined */
  foundingNumber?: number | null;
  /** defaults to 100 */
  foundingTotal?: number;
}

/** The issuing body shown on the certificate and in the credential. */
export interface Association {
  zh: string;
  en: string;
}

/** Fictional on purpose: a certificate made without configuration must not name a real body. */
export const DEFAULT_ASSOCIATION: Association = {
  zh: '示例质量协会',
  en: 'Example Quality Association',
};

export interface RenderOptions {
  /** e.g. https://eqi.example.org — the QR opens `${publicUrl}/verify/<serial>` */
  publicUrl: string;
  /** printed fingerprint of the credential signing key (see keyFingerprint) */
  keyFingerprint: string;
  association?: Association;
  /**
   * Signed with development keys: draws the diagonal SAMPLE watermark (see render.ts). Off by
   * default, so a rendering without it is byte-identical to one made before the flag existed.
   */
  sample?: boolean;
}

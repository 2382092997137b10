/**
 * The registry's own JSON-LD context, served at <PUBLIC_URL>/ns/eqi/v1 and listed after the
 * W3C VC 2.0 context in every credential, so that JSON-LD processors (jsonld.expand in safe mode)
 * drop no term of it. Its vocabulary lives under the same URL ("#uscc", ...), so the context
 * differs per registry. Terms are protected, as the VC context's are; bilingual values ({zh, en})
 * are language maps.
 */
import { normalisePublicUrl } from './render';

export const EQI_CONTEXT_PATH = '/ns/eqi/v1';
export const EQI_CONTEXT_MEDIA_TYPE = 'application/ld+json';

export function eqiContextUrl(publicUrl: string): string {
  return `${normalisePublicUrl(publicUrl)}${EQI_CONTEXT_PATH}`;
}

const XSD = 'http://www.w3.org/2001/XMLSchema#';

/** The context document; every term a certificate credential uses beyond the VC 2.0 context. */
export function eqiContext(publicUrl: string): { '@context': Record<string, unknown> } {
  const v = (term: string) => `${eqiContextUrl(publicUrl)}#${term}`;
  const languageMap = (term: string) => ({ '@id': v(term), '@container': '@language' });
  return {
    '@context': {
      '@version': 1.1,
      '@protected': true,
      QualityIntegrityPledgeCredential: v('QualityIntegrityPledgeCredential'),
      Organization: 'https://schema.org/Organization',
      nameEn: v('nameEn'),
      uscc: v('uscc'),
      province: languageMap('province'),
      industry: languageMap('industry'),
      signatory: v('signatory'),
      title: languageMap('title'),
      pledge: v('pledge'),
      initiative: v('initiative'),
      version: v('version'),
      sha256: v('sha256'),
      activatedAt: { '@id': v('activatedAt'), '@type': `${XSD}dateTime` },
      foundingNumber: { '@id': v('foundingNumber'), '@type': `${XSD}integer` },
      serialNumber: v('serialNumber'),
      renderDigest: v('renderDigest'),
      logVerifierKey: v('logVerifierKey'),
      developmentKey: { '@id': v('developmentKey'), '@type': `${XSD}boolean` },
    },
  };
}

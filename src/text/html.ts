/**
 * HTML escaping for text built outside the templates (mail bodies, chart SVG, the plain error
 * page). Nunjucks autoescapes its own output; this is for the few strings assembled in code.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe inside element content and inside single- or double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

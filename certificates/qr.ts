// QR code as vector rectangles: one `re` per horizontal run of dark modules,
// in module units under a single transform, filled once. Smaller and faster
// than an embedded PNG and sharp at any zoom.
import QRCode from 'qrcode';
import { num } from './content';

export interface QrDrawing {
  /** content-stream operators */
  ops: string;
  modules: number;
}

/**
 * Draws the QR for `text` with its top-left corner at (x, top) and `size`
 * points wide, on a white quiet zone of 4 modules (not counted in size).
 */
export function qrOps(
  text: string,
  x: number,
  top: number,
  size: number,
  color: readonly [number, number, number],
): QrDrawing {
  // One byte-mode segment: skips the library's segment optimiser (a graph search, ~0.4 ms) for no size gain on a URL.
  const qr = QRCode.create([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], {
    errorCorrectionLevel: 'M',
  });
  const n = qr.modules.size;
  const data = qr.modules.data;
  const m = size / n;
  const q = 4 * m;
  // White quiet zone with a hairline frame so it reads as part of the design.
  let out = `q 1 1 1 rg 0.7 0.53 0.26 RG 0.4 w ${num(x - q)} ${num(top - size - q)} ${num(size + 2 * q)} ${num(size + 2 * q)} re B\n`;
  // Flip y so row r spans [r, r+1] downwards from `top`; coordinates become small integers.
  out += `${num(color[0])} ${num(color[1])} ${num(color[2])} rg ${num(m)} 0 0 ${num(-m)} ${num(x)} ${num(top)} cm\n`;
  for (let r = 0; r < n; r++) {
    const row = r * n;
    let c = 0;
    while (c < n) {
      if (!data[row + c]) {
        c++;
        continue;
      }
      const start = c;
      while (c < n && data[row + c]) c++;
      out += `${start} ${r} ${c - start} 1 re\n`;
    }
  }
  out += 'f Q\n';
  return { ops: out, modules: n };
}

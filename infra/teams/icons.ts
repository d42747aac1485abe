// The Teams app icons, drawn in code so the package needs no binary files:
// a warning triangle with an exclamation mark.
//   colour:  192x192, white glyph on the accent colour, opaque
//   outline: 32x32, white glyph on transparent (Teams tints it)

import { crc32, deflateSync } from "node:zlib";

export const ACCENT_COLOR = "#C4314B";

type Point = readonly [number, number];

const TRIANGLE: readonly Point[] = [
  [0.5, 0.13],
  [0.91, 0.85],
  [0.09, 0.85],
];
const STROKE = 0.075;

/** The glyph in unit coordinates (0..1, y down). */
function inGlyph(x: number, y: number): boolean {
  const ring = insideTriangle(x, y, 0) && !insideTriangle(x, y, STROKE);
  const bar = Math.abs(x - 0.5) <= STROKE / 2 && y >= 0.4 && y <= 0.64;
  const dot = Math.hypot(x - 0.5, y - 0.73) <= 0.05;
  return ring || bar || dot;
}

/** Inside the triangle and at least `inset` away from every edge. */
function insideTriangle(x: number, y: number, inset: number): boolean {
  return TRIANGLE.every(([ax, ay], i) => {
    const [bx, by] = TRIANGLE[(i + 1) % TRIANGLE.length]!;
    // Signed distance to the edge a→b; the vertices run clockwise on screen, so inside is positive.
    return ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) / Math.hypot(bx - ax, by - ay) >= inset;
  });
}

/** Fraction of the pixel the glyph covers, from 4x4 samples (anti-aliasing). */
function coverage(px: number, py: number, size: number): number {
  const n = 4;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (inGlyph((px + (i + 0.5) / n) / size, (py + (j + 0.5) / n) / size)) hits++;
    }
  }
  return hits / (n * n);
}

function render(size: number, pixel: (cover: number) => readonly [number, number, number, number]): Buffer {
  const rgba = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) rgba.set(pixel(coverage(x, y, size)), (y * size + x) * 4);
  }
  return encodePng(size, size, rgba);
}

export function colorIcon(): Buffer {
  const accent = [1, 3, 5].map((i) => parseInt(ACCENT_COLOR.slice(i, i + 2), 16));
  return render(192, (cover) => {
    const [r, g, b] = accent.map((c) => Math.round(c + (255 - c) * cover)) as [number, number, number];
    return [r, g, b, 255];
  });
}

export function outlineIcon(): Buffer {
  return render(32, (cover) => [255, 255, 255, Math.round(255 * cover)]);
}

/** A minimal PNG encoder: 8-bit RGBA, no interlacing, filter 0 on every row. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const stride = width * 4;
  const rows = Buffer.alloc((stride + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) rows.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, adaptive filtering, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

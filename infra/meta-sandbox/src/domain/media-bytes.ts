/**
 * Just enough of JPEG and ISO-BMFF (MP4/MOV) to generate valid sample files and to read what Meta checks
 * cheaply: the format from magic bytes, JPEG dimensions from the SOF header, and video duration and size
 * from the `mvhd`/`tkhd` boxes.
 */
export type MediaFormat = 'jpeg' | 'png' | 'gif' | 'mp4' | 'mov' | 'unknown';

export type MediaProbe = {
  readonly format: MediaFormat;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly durationSeconds?: number | undefined;
};

export function probeMedia(bytes: Uint8Array): MediaProbe {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { format: 'jpeg', ...readJpegSize(bytes) };
  if (bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG') {
    return { format: 'png', width: u32(bytes, 16), height: u32(bytes, 20) };
  }
  if (ascii(bytes, 0, 4) === 'GIF8') return { format: 'gif' };
  const firstBox = ascii(bytes, 4, 4);
  if (firstBox === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    return { format: brand === 'qt  ' ? 'mov' : 'mp4', ...readMovieInfo(bytes) };
  }
  if (['moov', 'mdat', 'wide', 'free', 'skip'].includes(firstBox)) return { format: 'mov', ...readMovieInfo(bytes) };
  return { format: 'unknown' };
}

export function readJpegSize(bytes: Uint8Array): { width?: number; height?: number } {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return {};
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    const length = u16(bytes, offset + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) return { height: u16(bytes, offset + 5), width: u16(bytes, offset + 7) };
    if (marker === 0xda) return {};
    offset += 2 + length;
  }
  return {};
}

function readMovieInfo(bytes: Uint8Array): { width?: number; height?: number; durationSeconds?: number } {
  const moov = findBox(bytes, 0, bytes.length, 'moov');
  if (!moov) return {};
  const info: { width?: number; height?: number; durationSeconds?: number } = {};
  const mvhd = findBox(bytes, moov.start, moov.end, 'mvhd');
  if (mvhd) {
    const version = bytes[mvhd.start] ?? 0;
    const timescale = version === 1 ? u32(bytes, mvhd.start + 20) : u32(bytes, mvhd.start + 12);
    const duration =
      version === 1 ? Number(u32(bytes, mvhd.start + 24)) * 2 ** 32 + u32(bytes, mvhd.start + 28) : u32(bytes, mvhd.start + 16);
    if (timescale > 0) info.durationSeconds = duration / timescale;
  }
  const trak = findBox(bytes, moov.start, moov.end, 'trak');
  const tkhd = trak && findBox(bytes, trak.start, trak.end, 'tkhd');
  if (tkhd && tkhd.end - tkhd.start >= 84) {
    info.width = u32(bytes, tkhd.end - 8) >>> 16;
    info.height = u32(bytes, tkhd.end - 4) >>> 16;
  }
  return info;
}

function findBox(bytes: Uint8Array, from: number, to: number, type: string): { start: number; end: number } | undefined {
  let offset = from;
  while (offset + 8 <= to && offset + 8 <= bytes.length) {
    const size = u32(bytes, offset);
    const end = size === 0 ? to : offset + size;
    if (size !== 0 && size < 8) return undefined;
    if (ascii(bytes, offset + 4, 4) === type) return { start: offset + 8, end: Math.min(end, bytes.length) };
    offset = end;
  }
  return undefined;
}

/**
 * A valid baseline greyscale JPEG of the given size: one uniform mid-grey image whose entropy-coded data is
 * two bits per 8x8 block. `padToBytes` adds a COM-segment filler to reach a size (for the 8 MB limit test).
 */
export function generateJpeg(width: number, height: number, padToBytes = 0): Uint8Array {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  // Huffman tables with a single one-bit code each: DC category 0 -> "0", AC end-of-block -> "0".
  // So every block is the two bits "00" and the scan is all zero bytes, which needs no 0xFF stuffing.
  const scan = new Uint8Array(Math.ceil((blocks * 2) / 8));
  const usedBits = (blocks * 2) % 8;
  if (usedBits !== 0) scan[scan.length - 1] = (1 << (8 - usedBits)) - 1; // pad the last byte with 1-bits
  const header = [
    0xff, 0xd8,
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0xff, 0xdb, 0x00, 0x43, 0x00, ...new Array<number>(64).fill(1),
    0xff, 0xc0, 0x00, 0x0b, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x01, 0x01, 0x11, 0x00,
    0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, ...new Array<number>(15).fill(0), 0x00,
    0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, ...new Array<number>(15).fill(0), 0x00,
    0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00,
  ];
  const trailer = [0xff, 0xd9];
  const base = header.length + scan.length + trailer.length;
  const padding = commentPadding(Math.max(0, padToBytes - base));
  const out = new Uint8Array(base + padding.length);
  out.set(header.slice(0, 20), 0);
  out.set(padding, 20);
  out.set(header.slice(20), 20 + padding.length);
  out.set(scan, header.length + padding.length);
  out.set(trailer, header.length + padding.length + scan.length);
  return out;
}

function commentPadding(bytes: number): Uint8Array {
  if (bytes < 4) return new Uint8Array(0);
  const out = new Uint8Array(bytes);
  let offset = 0;
  while (bytes - offset >= 4) {
    const segment = Math.min(65_535 + 2, bytes - offset);
    out[offset] = 0xff;
    out[offset + 1] = 0xfe;
    out[offset + 2] = (segment - 2) >> 8;
    out[offset + 3] = (segment - 2) & 0xff;
    out.fill(0x20, offset + 4, offset + segment);
    offset += segment;
  }
  return out.subarray(0, offset);
}

/** A structurally valid MP4 (or QuickTime MOV) header: ftyp + moov(mvhd, trak(tkhd)) + an empty mdat. */
export function generateMovie(options: { durationSeconds: number; width: number; height: number; brand?: 'mp4' | 'mov' }): Uint8Array {
  const timescale = 1000;
  const duration = Math.round(options.durationSeconds * timescale);
  const major = options.brand === 'mov' ? 'qt  ' : 'isom';
  const ftyp = box('ftyp', [...text(major), 0, 0, 2, 0, ...text(major), ...text(options.brand === 'mov' ? 'qt  ' : 'mp41')]);
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000].flatMap(be32);
  const mvhd = box('mvhd', [
    0, 0, 0, 0, ...be32(0), ...be32(0), ...be32(timescale), ...be32(duration),
    ...be32(0x00010000), 0x01, 0x00, ...new Array<number>(10).fill(0), ...matrix, ...new Array<number>(24).fill(0), ...be32(2),
  ]);
  const tkhd = box('tkhd', [
    0, 0, 0, 3, ...be32(0), ...be32(0), ...be32(1), ...be32(0), ...be32(duration), ...new Array<number>(8).fill(0),
    0, 0, 0, 0, 0, 0, 0, 0, ...matrix, ...be32(options.width << 16), ...be32(options.height << 16),
  ]);
  const moov = box('moov', [...mvhd, ...box('trak', tkhd)]);
  return Uint8Array.from([...ftyp, ...moov, ...box('mdat', [])]);
}

/** A tiny valid PNG (1x1), used to prove that non-JPEG images are refused. */
export function generatePng(): Uint8Array {
  return Uint8Array.from(
    Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==',
      'base64',
    ),
  );
}

function box(type: string, payload: number[]): number[] {
  return [...be32(payload.length + 8), ...text(type), ...payload];
}

function be32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

function text(value: string): number[] {
  return [...value].map((char) => char.charCodeAt(0));
}

function u16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

function u32(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] ?? 0) << 24) | ((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0)) >>> 0;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = offset; i < offset + length && i < bytes.length; i += 1) out += String.fromCharCode(bytes[i] ?? 0);
  return out;
}

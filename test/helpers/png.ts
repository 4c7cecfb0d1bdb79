// Just enough PNG decoding to tell a rendered page from a blank one: 8-bit RGB/RGBA, non-interlaced (what Chromium
// writes for screenshots).
import { inflateSync } from 'node:zlib'

export interface DecodedPng {
  width: number
  height: number
  channels: number
  pixels: Uint8Array
}

export function decodePng(png: Uint8Array): DecodedPng {
  const buf = Buffer.from(png)
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG')
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset)
    const type = buf.toString('latin1', offset + 4, offset + 8)
    const data = buf.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const bitDepth = data[8]
      const colorType = data[9]
      const interlace = data[12]
      if (bitDepth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) {
        throw new Error(`unsupported PNG: depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`)
      }
      channels = colorType === 6 ? 4 : 3
    } else if (type === 'IDAT') idat.push(data)
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const pixels = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[y * stride + x - channels] as number) : 0
      const b = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0
      const v = line[x] as number
      let out: number
      if (filter === 0) out = v
      else if (filter === 1) out = v + a
      else if (filter === 2) out = v + b
      else if (filter === 3) out = v + ((a + b) >> 1)
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
      } else throw new Error(`bad PNG filter ${filter}`)
      pixels[y * stride + x] = out & 0xff
    }
  }
  return { width, height, channels, pixels }
}

/** Number of distinct RGB colours (alpha ignored). */
export function distinctColors(img: DecodedPng): number {
  const seen = new Set<number>()
  for (let i = 0; i < img.pixels.length; i += img.channels) {
    seen.add(((img.pixels[i] as number) << 16) | ((img.pixels[i + 1] as number) << 8) | (img.pixels[i + 2] as number))
  }
  return seen.size
}

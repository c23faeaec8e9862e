/**
 * COPY streams that relay the source's CopyData messages to the destination as they are, framing included.
 *
 * `pg-copy-streams` takes every CopyData message apart (PostgreSQL sends one per row) and frames the pieces again
 * on the way in: for millions of rows that is most of the Node process's CPU. Here the COPY OUT side only finds
 * the message boundaries and passes on runs of whole messages; the COPY IN side writes them unchanged. Its streams
 * keep doing everything else (taking over the connection, errors, CopyFail, the final row count).
 */
import {
  from as copyFrom,
  to as copyTo,
  type CopyStreamQuery,
  type CopyToStreamQuery,
} from "pg-copy-streams";

const COPY_DATA = 0x64;
const ERROR_RESPONSE = 0x45;
/**
 * Messages skipped: the CopyOutResponse that starts copy-out, and the asynchronous ones PostgreSQL may send in
 * the middle of the data.
 */
const SKIPPED = new Set([
  0x48 /* CopyOutResponse */, 0x4e /* NoticeResponse */, 0x53 /* ParameterStatus */,
  0x41 /* NotificationResponse */,
]);
const HEADER = 5;

/**
 * Longest CopyData message held back until complete. A longer one (a huge row) is passed on piece by piece as it
 * arrives, each piece framed as a CopyData message of its own — COPY FROM does not care where messages split the
 * data — so memory stays flat whatever the row size, and every write ends on a message boundary (a CopyFail
 * sent after it is read as a message, not as row data).
 */
const HOLD_LIMIT = 1 << 20;

export interface FramerOutput {
  /** Whole CopyData messages to send on, in order. */
  frames: Buffer[];
  /** Copy-out ended at a message other than CopyData: `rest` starts with it (an error) or follows it (the end). */
  end?: { rest: Buffer; error: boolean };
}

/** Finds CopyData message boundaries in the COPY OUT byte stream of one server connection. */
export class CopyDataFramer {
  /** CopyData messages seen (one per row, plus the binary format's trailer). */
  messages = 0;
  /** Row data bytes seen, without the framing. */
  payloadBytes = 0;
  /** Bytes of an incomplete message, kept until the rest arrives. */
  private pending: Buffer | null = null;
  /** Data bytes still to come of a long message being passed on in pieces. */
  private longRemaining = 0;

  feed(chunk: Buffer): FramerOutput {
    const frames: Buffer[] = [];
    let data = chunk;
    if (this.longRemaining > 0) {
      const take = Math.min(this.longRemaining, data.length);
      frames.push(this.framed(data.subarray(0, take)));
      this.longRemaining -= take;
      data = data.subarray(take);
    }
    if (this.pending) {
      data = Buffer.concat([this.pending, data]);
      this.pending = null;
    }
    let at = 0;
    let runStart = 0;
    const closeRun = () => {
      if (at > runStart) frames.push(data.subarray(runStart, at));
    };
    while (data.length - at >= HEADER) {
      const code = data[at];
      const length = data.readUInt32BE(at + 1);
      const end = at + 1 + length;
      if (code === COPY_DATA) {
        if (end <= data.length) {
          this.messages += 1;
          this.payloadBytes += length - 4;
          at = end;
          continue;
        }
        if (length - 4 <= HOLD_LIMIT) break;
        closeRun();
        this.messages += 1;
        const available = data.subarray(at + HEADER);
        if (available.length > 0) frames.push(this.framed(available));
        this.longRemaining = length - 4 - available.length;
        return { frames };
      }
      closeRun();
      if (code === ERROR_RESPONSE) return { frames, end: { rest: data.subarray(at), error: true } };
      if (end > data.length) {
        runStart = at;
        break;
      }
      if (SKIPPED.has(code ?? 0)) {
        at = end;
        runStart = at;
        continue;
      }
      // CopyDone, or any other message: "may be treated as terminating copy-out mode" (protocol, COPY operations).
      return { frames, end: { rest: data.subarray(end), error: false } };
    }
    closeRun();
    if (at < data.length) this.pending = data.subarray(at);
    return { frames };
  }

  /** A piece of a long message as a CopyData message of its own, in one buffer (written whole, or not at all). */
  private framed(data: Buffer): Buffer {
    this.payloadBytes += data.length;
    const message = Buffer.allocUnsafe(HEADER + data.length);
    message[0] = COPY_DATA;
    message.writeUInt32BE(data.length + 4, 1);
    data.copy(message, HEADER);
    return message;
  }
}

/** The parts of pg-copy-streams' COPY OUT stream this module builds on (see its copy-to.js). */
interface CopyOutInternals {
  _buffer: { push(data: Buffer): void; size: number; take(n: number): Buffer };
  _detach(): void;
  _cleanup(): void;
}

const CopyOutStream = Object.getPrototypeOf(copyTo("")).constructor as new (
  text: string,
) => CopyToStreamQuery;
const CopyInStream = Object.getPrototypeOf(copyFrom("")).constructor as new (text: string) => CopyStreamQuery;

/** `COPY … TO STDOUT` whose stream yields whole CopyData messages, framing included. */
export class FramedCopyOut extends CopyOutStream {
  readonly framer = new CopyDataFramer();

  constructor(
    text: string,
    private readonly onFrames: (framer: CopyDataFramer) => void = () => undefined,
  ) {
    super(text);
  }

  /** Replaces pg-copy-streams' parser, which is called with each chunk read from the connection. */
  _parse(chunk: Buffer): boolean {
    const { frames, end } = this.framer.feed(chunk);
    let drained = true;
    for (const frame of frames) drained = this.push(frame) && drained;
    this.onFrames(this.framer);
    if (!end) return drained;
    // Hands what follows back to pg, as pg-copy-streams does: pg reads the error, or the command's completion.
    const internals = this as unknown as CopyOutInternals;
    internals._buffer.take(internals._buffer.size);
    internals._buffer.push(end.rest);
    internals._detach();
    if (!end.error) {
      this.push(null);
      internals._cleanup();
    }
    return false;
  }
}

/** `COPY … FROM STDIN` that writes what it is given as it is: whole CopyData messages from `FramedCopyOut`. */
export class FramedCopyIn extends CopyInStream {
  flushChunk(chunk: Buffer): boolean {
    const connection = (this as unknown as { connection: { stream: NodeJS.WritableStream } }).connection;
    return connection.stream.write(chunk);
  }
}

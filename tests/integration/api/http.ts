import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Opens a TCP connection to 127.0.0.1:port. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => done(socket));
    socket.once('error', fail);
  });
}

/** Reads one HTTP/1.1 response with a Content-Length body from the socket. */
export function readResponse(socket: Socket, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((done, fail) => {
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(new Error(`no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...headerLines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      finish(undefined, { status: Number(statusLine!.split(' ')[1]), headers, body });
    };
    const onClose = () => finish(new Error('connection closed before a complete response'));
    function finish(error?: Error, response?: RawResponse) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) fail(error);
      else done(response!);
    }
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Resolves when the peer closes the socket, rejects at the deadline. */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    if (socket.destroyed || socket.readableEnded) return done();
    const timer = setTimeout(() => fail(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    const closed = () => {
      clearTimeout(timer);
      done();
    };
    socket.once('end', closed);
    socket.once('close', closed);
  });
}

/** Request head for POST /predict with a JSON body of the given byte length. */
export function postHead(path: string, length: number, extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\n${extra}\r\n`
  );
}

/** Resolves once connecting to the port is refused, retrying until the deadline. */
export async function refusedWithin(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      (await openSocket(port)).destroy();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
      throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`port ${port} still accepts connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

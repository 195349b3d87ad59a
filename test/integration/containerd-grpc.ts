/**
 * A minimal gRPC unary client for containerd's API over its unix socket (HTTP/2 + the 5-byte gRPC message
 * prefix), for calls ctr 1.6 has no command for (Tasks.Update). Messages are encoded by the caller.
 */
import { connect as h2connect, constants } from 'node:http2';
import { connect as netConnect } from 'node:net';
import protobuf from 'protobufjs/minimal.js';

export interface GrpcResult {
  /** grpc-status (0 = OK). */
  readonly status: number;
  readonly message: string;
  readonly body: Buffer;
}

export async function grpcUnary(socket: string, path: string, payload: Uint8Array, namespace = 'default'): Promise<GrpcResult> {
  const session = h2connect('http://localhost', { createConnection: () => netConnect(socket) });
  try {
    return await new Promise<GrpcResult>((resolve, reject) => {
      const req = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'containerd-namespace': namespace,
      });
      const chunks: Buffer[] = [];
      let status = -1;
      let message = '';
      const take = (h: Record<string, unknown>): void => {
        if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
        if (typeof h['grpc-message'] === 'string') message = decodeURIComponent(h['grpc-message']);
      };
      req.on('response', take);
      req.on('trailers', take);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', reject);
      req.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status, message, body: all.length >= 5 ? all.subarray(5, 5 + all.readUInt32BE(1)) : Buffer.alloc(0) });
      });
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(payload.length, 1);
      req.end(Buffer.concat([prefix, Buffer.from(payload)]));
    });
  } finally {
    session.close();
  }
}

/** containerd.services.tasks.v1.UpdateTaskRequest { container_id = 1; Any resources = 2; map<string,string> annotations = 3 }. */
export function updateTaskRequest(containerId: string, typeUrl: string, value: Uint8Array, annotations: Record<string, string> = {}): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(containerId);
  w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(typeUrl).uint32((2 << 3) | 2).bytes(value).ldelim();
  for (const [k, v] of Object.entries(annotations)) {
    w.uint32((3 << 3) | 2).fork().uint32((1 << 3) | 2).string(k).uint32((2 << 3) | 2).string(v).ldelim();
  }
  return w.finish();
}

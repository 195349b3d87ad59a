/**
 * A CRI (runtime.v1) client over containerd's gRPC socket: @grpc/grpc-js with the api.proto from Debian's
 * containerd source package (scripts/fetch-cri-api.sh, fetched at test setup into a cache, not committed).
 * Messages are plain objects with the proto's snake_case field names; enums as their names.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

type Json = Record<string, unknown>;
type UnaryMethod = (req: Json, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Json) => void) => void;

/** The cached runtime.v1 api.proto (downloaded and extracted on first use). */
export function criApiProto(repo: string): string {
  return execFileSync('bash', [join(repo, 'scripts', 'fetch-cri-api.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  constructor(protoPath: string, socket: string) {
    const def = protoLoader.loadSync(protoPath, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor } };
    };
    const creds = grpc.credentials.createInsecure();
    this.runtime = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, creds);
    this.image = new pkg.runtime.v1.ImageService(`unix://${socket}`, creds);
  }

  /** One RuntimeService call; rejects with the gRPC error (code and details). */
  call<T = Json>(method: string, req: Json, timeoutMs = 120_000): Promise<T> {
    return this.invoke(this.runtime, method, req, timeoutMs) as Promise<T>;
  }

  /** One ImageService call. */
  imageCall<T = Json>(method: string, req: Json, timeoutMs = 60_000): Promise<T> {
    return this.invoke(this.image, method, req, timeoutMs) as Promise<T>;
  }

  private invoke(client: grpc.Client, method: string, req: Json, timeoutMs: number): Promise<Json> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no CRI method ${method}`));
    return new Promise((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}

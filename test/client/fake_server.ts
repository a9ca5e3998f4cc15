/**
 * A scripted gRPC server for client tests: one or more services on a free 127.0.0.1 port (the
 * OS picks it), stopped with close().
 */
import {Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation} from '@grpc/grpc-js'

export class FakeGrpcServer {
  readonly server = new Server()
  port = 0

  /** Adds `impl` (only the methods a test needs) for `service`, before serve(). */
  protected addService(service: ServiceDefinition, impl: Record<string, unknown>): void {
    this.server.addService(service, impl as UntypedServiceImplementation)
  }

  /** Serves `impl` for `service` (and whatever addService added) and starts listening. */
  protected async serve(service: ServiceDefinition, impl: Record<string, unknown>): Promise<void> {
    this.addService(service, impl)
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(),
      (err, port) => (err === null ? resolve(port) : reject(err))))
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`
  }

  close(): void {
    this.server.forceShutdown()
  }
}

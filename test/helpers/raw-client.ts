// Requests of a test's own to a broker on 127.0.0.1, for the corner cases that need exact control of the bytes (duplicate
// batches, chosen versions), on the client connection the sink reads with. Interop with real clients is tested separately.
import { KafkaClientConnection } from '../../src/sink/kafka-connection.ts';

export const RawClient = {
  connect(port: number): Promise<KafkaClientConnection> {
    return KafkaClientConnection.connect('127.0.0.1', port, { clientId: 'raw-test', timeoutMs: 10_000 });
  },
};

// The Kafka client, loaded on first use. Importing it takes about half a second on a small machine, and every thread
// that loads a lake's configuration (step threads, the sink's and stream's threads of `oxbow up`) imports the oxbow
// package, whose stream modules build Kafka clients; a step thread never does. Modules that do import it through here,
// where their clients are made, and name its types with `import type`, which costs nothing at run time.
import type * as Kafka from '@platformatic/kafka';

type KafkaModule = typeof Kafka;

let loading: Promise<KafkaModule> | null = null;

/** The @platformatic/kafka module, imported the first time it is asked for. */
export function kafka(): Promise<KafkaModule> {
  loading ??= import('@platformatic/kafka');
  return loading;
}

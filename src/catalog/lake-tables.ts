// The catalog tables of a lake's configuration: one per dataset, over its processed topic's files.
import type { OxbowConfig } from '../config/index.ts';
import { createPartitioner, GRANULARITIES, listingPrefix, mapJsonSchema } from '../sink/index.ts';
import { processedSchema } from '../stream/index.ts';
import type { CrawlTable } from './crawler.ts';

const TIME_KEYS = ['year', 'month', 'day', 'hour'];

export function lakeTables(config: OxbowConfig): CrawlTable[] {
  const s = config.sink;
  const timeKeys = TIME_KEYS.slice(0, GRANULARITIES.indexOf(s.granularity) + 1);
  return Object.values(config.datasets).map((dataset) => {
    const topic = dataset.topics.processed;
    const partitioner = createPartitioner({ topic, pathFormat: s.pathFormat, granularity: s.granularity, timeZone: s.timeZone, fieldPartitions: s.fieldPartitions, eventTimeField: dataset.eventTimeField });
    const mapping = mapJsonSchema(processedSchema(dataset), { eventTimeField: dataset.eventTimeField });
    return {
      name: dataset.name,
      topic,
      location: listingPrefix(partitioner.pathFormat, topic),
      eventTimeColumn: dataset.eventTimeField,
      partitionKeys: [...s.fieldPartitions, ...timeKeys],
      columns: mapping.columns.map((c) => ({ name: c.name, type: c.duckType, nullable: c.nullable })),
    };
  });
}

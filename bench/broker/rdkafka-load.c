// Load generator of the broker benchmark on librdkafka's C API, for the produce runs and one of the consume runs: the
// @platformatic/kafka generator in load.ts needs about a core of its own at full speed, which on a small machine is
// taken from the broker being measured, and kcat, the other librdkafka consumer, formats and writes every record, which
// caps it below what the broker serves. It speaks load.ts's job protocol for the `produce`, `rate` and `consume` modes:
// one JSON job argument (the object run.ts writes with JSON.stringify), `{"ready":true}` once ready, a line on stdin
// to start, one JSON result line at the end. `rdkafka-load --version` prints the librdkafka version. run.ts builds it
// with `cc -O2 -pthread -o <scratch>/rdkafka-load bench/broker/rdkafka-load.c -lrdkafka`.
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------------------------------
// The job

typedef struct {
  char mode[16];
  char address[256];
  char topic[256];
  int partitions;
  int first_partition;
  int record_bytes;
  int records_per_send; // produce: records per request (one batch of one partition)
  int inflight;         // produce: requests in flight on the connection
  double duration_ms;
  double max_bytes;     // produce: stop after this many payload bytes; 0 = only the duration bounds the run
  double records_per_second; // rate
  double tick_ms;            // rate
  double warmup_ms;          // rate: ticks sent at the rate before the timed ones, not timed or counted
  int partition_max_bytes;   // consume: bytes per partition per Fetch request
  int workers;               // consume: processes sharing the topic (this one reads p % workers == first_partition)
  double timeout_ms;         // consume: give up reading after this long
} job_t;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("rdkafka-load: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

// The job is JSON.stringify output of a flat object with known keys, so finding `"key":` is enough; no general parser.
static const char *json_value(const char *json, const char *key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *p = strstr(json, pattern);
  if (p == NULL) return NULL;
  p += strlen(pattern);
  while (*p == ' ') p++;
  return p;
}

static double json_number(const char *json, const char *key, int required, double fallback) {
  const char *p = json_value(json, key);
  if (p == NULL) {
    if (required) die("job has no \"%s\"", key);
    return fallback;
  }
  char *end;
  double n = strtod(p, &end);
  if (end == p) die("job's \"%s\" is not a number", key);
  return n;
}

static void json_string(const char *json, const char *key, char *out, size_t size) {
  const char *p = json_value(json, key);
  if (p == NULL || *p != '"') die("job has no string \"%s\"", key);
  p++;
  size_t n = 0;
  while (p[n] != '"') {
    if (p[n] == '\0' || p[n] == '\\') die("job's \"%s\" is unterminated or has escapes", key);
    n++;
  }
  if (n >= size) die("job's \"%s\" is too long", key);
  memcpy(out, p, n);
  out[n] = '\0';
}

static job_t parse_job(const char *json) {
  job_t j;
  memset(&j, 0, sizeof j);
  json_string(json, "mode", j.mode, sizeof j.mode);
  json_string(json, "address", j.address, sizeof j.address);
  json_string(json, "topic", j.topic, sizeof j.topic);
  j.partitions = (int)json_number(json, "partitions", 1, 0);
  if (strcmp(j.mode, "consume") == 0) {
    // load.ts's ConsumeJob: no record size or duration, a per-partition fetch size and a time limit instead.
    j.partition_max_bytes = (int)json_number(json, "partitionMaxBytes", 1, 0);
    j.timeout_ms = json_number(json, "timeoutMs", 1, 0);
    // Several consumer processes share the topic as the producers do: this one reads the partitions p with
    // p % workers == firstPartition.
    j.first_partition = (int)json_number(json, "firstPartition", 0, 0);
    j.workers = (int)json_number(json, "workers", 0, 1);
    if (j.partitions < 1 || j.partition_max_bytes < 1 || j.timeout_ms <= 0 || j.workers < 1) die("job has a non-positive count or duration");
    if (j.first_partition < 0 || j.first_partition >= j.workers) die("job's firstPartition is not below its workers");
    return j;
  }
  j.first_partition = (int)json_number(json, "firstPartition", 1, 0);
  j.record_bytes = (int)json_number(json, "recordBytes", 1, 0);
  j.duration_ms = json_number(json, "durationMs", 1, 0);
  int produce = strcmp(j.mode, "produce") == 0;
  int rate = strcmp(j.mode, "rate") == 0;
  if (!produce && !rate) die("mode \"%s\" is not supported here (only produce, rate and consume)", j.mode);
  j.records_per_send = (int)json_number(json, "recordsPerSend", produce, 1);
  j.inflight = (int)json_number(json, "inflight", produce, 1);
  j.max_bytes = json_number(json, "maxBytes", 0, 0);
  j.records_per_second = json_number(json, "recordsPerSecond", rate, 0);
  j.tick_ms = json_number(json, "tickMs", rate, 5);
  j.warmup_ms = json_number(json, "warmupMs", 0, 0);
  if (j.partitions < 1 || j.record_bytes < 1 || j.records_per_send < 1 || j.inflight < 1 || j.duration_ms <= 0 || j.tick_ms <= 0 || j.warmup_ms < 0) {
    die("job has a non-positive count or duration");
  }
  return j;
}

// ---------------------------------------------------------------------------------------------------------------------
// Clocks

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/** Wall-clock milliseconds, comparable with stats.ts's wallMs() in the other processes of the run. */
static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_until_mono_ms(double at) {
  struct timespec ts;
  ts.tv_sec = (time_t)(at / 1e3);
  ts.tv_nsec = (long)((at - (double)ts.tv_sec * 1e3) * 1e6);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

/** CPU seconds of the whole process, librdkafka's threads included. */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

// ---------------------------------------------------------------------------------------------------------------------
// State shared with the thread that serves delivery reports

static rd_kafka_t *rk;
static job_t job;
static int rate_mode;

// Delivered records and bytes are written only by the poller thread and read by the main thread after the count of
// outstanding records reached zero, which the atomics order.
static long long delivered_records;
static long long delivered_bytes;
static atomic_long outstanding;      // records enqueued whose delivery report has not been served yet
static atomic_long wake_at = -1;     // the main thread sleeps until outstanding <= wake_at; -1 = nobody waits
static atomic_int failed;            // a record failed: stop enqueuing, as load.ts stops at its first error
static atomic_int stop_poller;
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond = PTHREAD_COND_INITIALIZER;

// A few distinct error messages with counts, not one string per failed record.
#define MAX_ERRORS 8
static struct {
  char text[256];
  long long count;
} errors[MAX_ERRORS];
static int error_kinds;
static long long errors_dropped;
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_error(const char *text, long long count) {
  pthread_mutex_lock(&error_lock);
  int i = 0;
  while (i < error_kinds && strcmp(errors[i].text, text) != 0) i++;
  if (i < error_kinds) {
    errors[i].count += count;
  } else if (error_kinds < MAX_ERRORS) {
    snprintf(errors[error_kinds].text, sizeof errors[error_kinds].text, "%s", text);
    errors[error_kinds].count = count;
    error_kinds++;
  } else {
    errors_dropped += count;
  }
  pthread_mutex_unlock(&error_lock);
  atomic_store(&failed, 1);
}

// Rate mode: one latency per delivered record, from the time its tick was scheduled; ticks before first_timed_tick
// are the warm-up, neither timed nor counted.
static double start_mono;
static long long first_timed_tick;
static float *latencies;
static long long latency_capacity;
static long long latency_count;

// The number of Produce (or, consuming, Fetch) requests sent, from librdkafka's statistics (summed over its broker
// connections).
static const char *request_key = "\"Produce\":";
static atomic_llong requests_sent;
static atomic_long stats_seen;

static void on_delivery(rd_kafka_t *k, const rd_kafka_message_t *m, void *opaque) {
  (void)k;
  (void)opaque;
  long long tick = (long long)(uintptr_t)m->_private;
  if (m->err) {
    add_error(rd_kafka_err2str(m->err), 1);
  } else if (!rate_mode || tick >= first_timed_tick) {
    delivered_records++;
    delivered_bytes += (long long)m->len;
    if (rate_mode && latency_count < latency_capacity) {
      double scheduled = start_mono + (double)tick * job.tick_ms;
      latencies[latency_count++] = (float)(mono_ms() - scheduled);
    }
  }
  long left = atomic_fetch_sub(&outstanding, 1) - 1;
  if (left <= atomic_load(&wake_at)) {
    pthread_mutex_lock(&wait_lock);
    pthread_cond_signal(&wait_cond);
    pthread_mutex_unlock(&wait_lock);
  }
}

static int on_stats(rd_kafka_t *k, char *json, size_t len, void *opaque) {
  (void)k;
  (void)opaque;
  // Each broker's "req" object counts requests by type; the bootstrap connection sends neither Produce nor Fetch.
  size_t key_len = strlen(request_key);
  long long total = 0;
  const char *p = json;
  const char *end = json + len;
  while ((p = memmem(p, (size_t)(end - p), request_key, key_len)) != NULL) {
    p += key_len;
    total += strtoll(p, NULL, 10);
  }
  atomic_store(&requests_sent, total);
  atomic_fetch_add(&stats_seen, 1);
  return 0;
}

static void *poller(void *arg) {
  (void)arg;
  // rd_kafka_poll returns as soon as a delivery report arrives, so reports are timed when they come in, while the
  // main thread sleeps until its next tick or enqueues.
  while (!atomic_load(&stop_poller)) rd_kafka_poll(rk, 50);
  return NULL;
}

/** Sleeps until at most `target` records are outstanding, or `timeout_ms` passed; returns whether it got there. */
static int wait_outstanding(long target, double timeout_ms) {
  double deadline = mono_ms() + timeout_ms;
  pthread_mutex_lock(&wait_lock);
  atomic_store(&wake_at, target);
  while (atomic_load(&outstanding) > target && mono_ms() < deadline) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10 * 1000000L; // a safety net only: the poller signals
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&wait_cond, &wait_lock, &ts);
  }
  atomic_store(&wake_at, -1);
  pthread_mutex_unlock(&wait_lock);
  return atomic_load(&outstanding) <= target;
}

/** Waits until the statistics callback has run `n` more times, so its figures were taken after this call. */
static void wait_stats(long n) {
  long target = atomic_load(&stats_seen) + n;
  double deadline = mono_ms() + 2000;
  while (atomic_load(&stats_seen) < target && mono_ms() < deadline) usleep(5000);
}

// ---------------------------------------------------------------------------------------------------------------------
// Producing

#define POOL 16
static char *pool[POOL];
static rd_kafka_topic_t *rkt;
static rd_kafka_message_t *batch;

/** A few distinct random payloads, reused round-robin: incompressible, and nothing to build per record. */
static void make_pool(void) {
  for (int i = 0; i < POOL; i++) {
    pool[i] = malloc((size_t)job.record_bytes);
    if (pool[i] == NULL) die("out of memory");
    for (size_t off = 0; off < (size_t)job.record_bytes;) {
      ssize_t n = getrandom(pool[i] + off, (size_t)job.record_bytes - off, 0);
      if (n < 0) die("getrandom: %s", strerror(errno));
      off += (size_t)n;
    }
  }
}

/** Enqueues `count` records for one partition in one call, so they reach the partition's queue (and a batch) together. */
static long enqueue(int partition, int count, long long seq, uintptr_t opaque) {
  for (int i = 0; i < count; i++) {
    memset(&batch[i], 0, sizeof batch[i]);
    batch[i].payload = pool[(seq + i) % POOL];
    batch[i].len = (size_t)job.record_bytes;
    batch[i]._private = (void *)opaque;
  }
  atomic_fetch_add(&outstanding, count);
  // Flags 0: librdkafka neither copies nor frees the payloads, which live as long as the process.
  int n = rd_kafka_produce_batch(rkt, partition, 0, batch, count);
  if (n < count) {
    for (int i = 0; i < count; i++) {
      if (batch[i].err) add_error(rd_kafka_err2str(batch[i].err), 1);
    }
    atomic_fetch_sub(&outstanding, count - n);
  }
  return n;
}

/** Rate mode: records enqueued per tick. */
static int records_per_tick(void) {
  int n = (int)(job.records_per_second * job.tick_ms / 1000 + 0.5);
  return n < 1 ? 1 : n;
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *fmt, ...) {
  char value[128];
  char err[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(value, sizeof value, fmt, ap);
  va_end(ap);
  if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) die("%s=%s: %s", key, value, err);
}

static void connect_producer(void) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char err[512];
  set(conf, "bootstrap.servers", "%s", job.address);
  set(conf, "client.id", "oxbow-bench-rdkafka");
  set(conf, "acks", "all");
  set(conf, "enable.idempotence", "false");
  set(conf, "compression.codec", "none");
  // Like load.ts (retries: 0, timeout 30 s): a failure is reported, not hidden by a retry.
  set(conf, "message.send.max.retries", "0");
  set(conf, "message.timeout.ms", "30000");
  // Requests are written whole; Nagle would only hold back a small one behind an unacknowledged one.
  set(conf, "socket.nagle.disable", "true");
  set(conf, "statistics.interval.ms", "100");
  if (rate_mode) {
    // A tick's records leave as one batch as soon as the last of them is enqueued: the batch is closed by its record
    // count. With linger.ms=0 the sender thread takes the first records while the rest are still being enqueued, and
    // about half the ticks went out as two requests, the second waiting for the first's fdatasync (broker.fsync=always)
    // before its own. The linger of one tick is only a bound that a full batch never reaches.
    // A batch stays within the broker's default max.message.bytes (1 MiB): at higher rates a tick takes two.
    long long tick_bytes = (long long)records_per_tick() * (job.record_bytes + 32) + 4096;
    if (tick_bytes > 1000000) tick_bytes = 1000000;
    set(conf, "linger.ms", "%g", job.tick_ms);
    set(conf, "batch.num.messages", "%d", records_per_tick());
    set(conf, "batch.size", "%lld", tick_bytes);
    set(conf, "message.max.bytes", "%lld", tick_bytes + 65536 > 1000000 ? tick_bytes + 65536 : 1000000);
    set(conf, "max.in.flight.requests.per.connection", "64");
  } else {
    // One request = one batch of records_per_send records of one partition, as one send of load.ts; the byte limit
    // is set above that (records carry a few bytes of framing each) so that the record count is what closes a batch.
    long long batch_bytes = (long long)job.records_per_send * (job.record_bytes + 32) + 4096;
    if (batch_bytes > 1048576) batch_bytes = 1048576;
    set(conf, "linger.ms", "5");
    set(conf, "batch.num.messages", "%d", job.records_per_send);
    set(conf, "batch.size", "%lld", batch_bytes);
    set(conf, "message.max.bytes", "%lld", batch_bytes + 65536 > 1000000 ? batch_bytes + 65536 : 1000000);
    set(conf, "max.in.flight.requests.per.connection", "%d", job.inflight);
  }
  // The main thread keeps its own bound on outstanding records (see produce_flat_out); librdkafka's queue limits
  // are set above it so that an enqueue never fails for a full queue.
  set(conf, "queue.buffering.max.messages", "10000000");
  set(conf, "queue.buffering.max.kbytes", "2097151");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_stats_cb(conf, on_stats);
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == NULL) die("rd_kafka_new: %s", err);
  rkt = rd_kafka_topic_new(rk, job.topic, NULL);
  if (rkt == NULL) die("rd_kafka_topic_new: %s", rd_kafka_err2str(rd_kafka_last_error()));

  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 30000);
  if (e) die("metadata of %s from %s: %s", job.topic, job.address, rd_kafka_err2str(e));
  if (md->topic_cnt != 1 || md->topics[0].err) die("topic %s: %s", job.topic, rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
  if (md->topics[0].partition_cnt < job.partitions) die("topic %s has %d partitions, the job needs %d", job.topic, md->topics[0].partition_cnt, job.partitions);
  rd_kafka_metadata_destroy(md);
}

/** Announces readiness and waits for the start line; gives up after two minutes so an orphan never lingers. */
static void wait_for_go(void) {
  printf("{\"ready\":true}\n");
  fflush(stdout);
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  int r = poll(&pfd, 1, 120000);
  if (r == 0) die("no start line within 120 s");
  char line[64];
  if (r < 0 || fgets(line, sizeof line, stdin) == NULL) die("stdin closed before the start line");
}

/** Sends one record to each partition in `parts` and waits for them: connections and leaders known, not counted. */
static void warm_up(const int *parts, int n) {
  for (int i = 0; i < n; i++) enqueue(parts[i], 1, i, 0);
  if (!wait_outstanding(0, 60000)) die("warm-up records not acknowledged within 60 s");
  if (atomic_load(&failed)) die("warm-up failed: %s", errors[0].text);
  delivered_records = 0;
  delivered_bytes = 0;
  latency_count = 0;
}

/** Waits for the last delivery reports; after a failure, drops what is still queued rather than wait for timeouts. */
static void finish(void) {
  if (atomic_load(&failed)) rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
  if (!wait_outstanding(0, 60000)) add_error("records still unacknowledged 60 s after the run", atomic_load(&outstanding));
}

// What an error's count counts: failed records when producing; when consuming, how often it occurred (shown above 1).
static int errors_are_events;

static void print_errors(void) {
  printf("\"errors\":[");
  for (int i = 0; i < error_kinds; i++) {
    printf("%s\"", i ? "," : "");
    for (const char *c = errors[i].text; *c; c++) {
      if (*c == '"' || *c == '\\') printf("\\%c", *c);
      else if ((unsigned char)*c < 0x20) printf(" ");
      else putchar(*c);
    }
    if (!errors_are_events) printf(" (%lld records)", errors[i].count);
    else if (errors[i].count > 1) printf(" (%lld times)", errors[i].count);
    printf("\"");
  }
  if (errors_dropped) printf("%s\"%lld %s\"", error_kinds ? "," : "", errors_dropped, errors_are_events ? "other errors" : "records failed with other errors");
  printf("]");
}

/**
 * Flat out: batches of records_per_send records round-robin over the partitions this process writes (those load.ts's
 * send loops firstPartition .. firstPartition + inflight - 1 would write), until the duration or max_bytes is reached.
 */
static void produce_flat_out(void) {
  int parts[1024];
  int n_parts = 0;
  for (int loop = 0; loop < job.inflight && n_parts < 1024; loop++) {
    int p = (job.first_partition + loop) % job.partitions;
    int seen = 0;
    for (int i = 0; i < n_parts; i++) seen |= parts[i] == p;
    if (!seen) parts[n_parts++] = p;
  }
  batch = calloc((size_t)job.records_per_send, sizeof *batch);
  if (batch == NULL) die("out of memory");
  warm_up(parts, n_parts);
  wait_stats(2);
  long long requests_before = atomic_load(&requests_sent);
  wait_for_go();

  // Outstanding records are bounded at the in-flight requests' worth plus as many batches again per partition being
  // filled: enough that a full batch is always waiting when a request returns, little enough that the run's end
  // does not wait long for a deep queue to drain.
  long bound = (long)job.records_per_send * (job.inflight * 2 + n_parts * 2);
  double cpu0 = cpu_seconds();
  double start = wall_ms();
  double deadline = mono_ms() + job.duration_ms;
  long long enqueued_bytes = 0;
  long long seq = 0;
  int next = 0;
  while (!atomic_load(&failed) && mono_ms() < deadline) {
    long long send_bytes = (long long)job.records_per_send * job.record_bytes;
    if (job.max_bytes > 0 && (double)(enqueued_bytes + send_bytes) > job.max_bytes) break;
    wait_outstanding(bound - job.records_per_send, deadline - mono_ms());
    if (mono_ms() >= deadline) break;
    long n = enqueue(parts[next], job.records_per_send, seq, 0);
    enqueued_bytes += n * (long long)job.record_bytes;
    seq += job.records_per_send;
    next = (next + 1) % n_parts;
  }
  // linger.ms may hold a last partial batch; flushing would poll from this thread too, so only wait for the reports.
  finish();
  double end = wall_ms();
  double cpu = cpu_seconds() - cpu0;
  wait_stats(2);
  printf("{\"records\":%lld,\"bytes\":%lld,\"startMs\":%.3f,\"endMs\":%.3f,", delivered_records, delivered_bytes, start, end);
  // From librdkafka's statistics; 0 if they never arrived.
  printf("\"requests\":%lld,\"cpuSeconds\":%.3f,", atomic_load(&requests_sent) - requests_before, cpu);
  print_errors();
  printf("}\n");
}

/**
 * Every tick, records_per_second × tick_ms / 1000 records to one partition (the next one each tick, as load.ts
 * does), whatever happened to earlier ticks; each record's latency runs from the time its tick was scheduled to its
 * delivery report, so a stall counts against every record it delays. The job's warm-up (warmupMs) runs at the same
 * rate first, untimed: the processes' memory and the broker's buffers grow to their steady size before the clock runs.
 */
static void produce_at_rate(void) {
  int per_tick = records_per_tick();
  long long ticks = (long long)(job.duration_ms / job.tick_ms);
  batch = calloc((size_t)per_tick, sizeof *batch);
  latency_capacity = ticks * per_tick;
  latencies = malloc((size_t)latency_capacity * sizeof *latencies);
  if (batch == NULL || latencies == NULL) die("out of memory");
  int all[1024];
  int n_all = job.partitions < 1024 ? job.partitions : 1024;
  for (int p = 0; p < n_all; p++) all[p] = p;
  warm_up(all, n_all);
  wait_for_go();

  // The warm-up runs at the rate from start_mono; the clock of the timed run starts at its first tick.
  first_timed_tick = (long long)(job.warmup_ms / job.tick_ms);
  start_mono = mono_ms();
  double start = wall_ms() + (double)first_timed_tick * job.tick_ms;
  double cpu0 = 0;
  long long sends = 0;
  long long behind = 0;
  for (long long tick = 0; tick < first_timed_tick + ticks && !atomic_load(&failed); tick++) {
    double scheduled = start_mono + (double)tick * job.tick_ms;
    sleep_until_mono_ms(scheduled);
    if (tick == first_timed_tick) cpu0 = cpu_seconds();
    if (tick >= first_timed_tick) {
      // A tick that starts more than a tick late: this process, not the broker, was the bottleneck for a moment.
      if (mono_ms() - scheduled > job.tick_ms) behind++;
      sends++;
    }
    enqueue((int)((job.first_partition + tick) % job.partitions), per_tick, tick, (uintptr_t)tick);
  }
  finish();
  double end = wall_ms();
  double cpu = cpu_seconds() - cpu0;
  // Latencies are per record here (load.ts has one per send); a tick's records share one request, so they are close.
  printf("{\"records\":%lld,\"startMs\":%.3f,\"endMs\":%.3f,\"sends\":%lld,\"behind\":%lld,\"cpuSeconds\":%.3f,", delivered_records, start, end, sends, behind, cpu);
  print_errors();
  printf(",\"latenciesMs\":[");
  for (long long i = 0; i < latency_count; i++) printf(i ? ",%.3f" : "%.3f", latencies[i]);
  printf("]}\n");
}

// ---------------------------------------------------------------------------------------------------------------------
// Consuming

/**
 * Reads every partition of the topic from its beginning until each has reported its end (enable.partition.eof), with
 * librdkafka's legacy consumer feeding all partitions into one queue: no group, no offset commits, only fetching,
 * the way kcat -C reads, but without formatting or writing the records. The clock starts at the start line and
 * includes creating the client, its metadata request and starting the fetchers, as kcat's run includes its start.
 */
static void consume_all(void) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", "%s", job.address);
  set(conf, "client.id", "oxbow-bench-rdkafka-consumer");
  set(conf, "enable.partition.eof", "true");
  // Large fetches: one Fetch request asks for up to partition_max_bytes from each partition, 50 MB in all.
  set(conf, "fetch.max.bytes", "%d", 50 * 1000 * 1000);
  set(conf, "max.partition.fetch.bytes", "%d", job.partition_max_bytes);
  // At the end of the log the broker holds a Fetch this long before answering empty, which is when librdkafka
  // reports the partition's end; kcat's run uses the same value.
  set(conf, "fetch.wait.max.ms", "100");
  // librdkafka stops fetching a partition while its local queue holds queued.min.messages records or
  // queued.max.messages.kbytes (per partition with this consumer). The default of 100,000 records is about one
  // 10 MiB fetch of 100-byte records, so the fetcher would wait for this thread after every response.
  set(conf, "queued.min.messages", "10000000");
  set(conf, "queued.max.messages.kbytes", "%d", 256 * 1024);
  set(conf, "statistics.interval.ms", "100");
  rd_kafka_conf_set_stats_cb(conf, on_stats);
  request_key = "\"Fetch\":";
  errors_are_events = 1;
  rd_kafka_topic_conf_t *topic_conf = rd_kafka_topic_conf_new();
  char err[512];
  // Nothing to commit: the run reads from the beginning and remembers no position.
  if (rd_kafka_topic_conf_set(topic_conf, "auto.commit.enable", "false", err, sizeof err) != RD_KAFKA_CONF_OK) die("auto.commit.enable: %s", err);

  // librdkafka allocates each Fetch response whole, and its records point into it until they are destroyed. glibc
  // maps blocks this large with mmap and gives freed memory back to the kernel, so every response was faulted in page
  // by page anew; kept in the heap (main sets this for every mode), one response's memory is reused for the next (in
  // short runs of 100-byte records: half the page faults or fewer, about 15% more MB/s).

  wait_for_go();
  double cpu0 = cpu_seconds();
  double start = wall_ms();
  double deadline = mono_ms() + job.timeout_ms;

  rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == NULL) die("rd_kafka_new: %s", err);
  rkt = rd_kafka_topic_new(rk, job.topic, topic_conf);
  if (rkt == NULL) die("rd_kafka_topic_new: %s", rd_kafka_err2str(rd_kafka_last_error()));
  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, (int)job.timeout_ms);
  if (e) die("metadata of %s from %s: %s", job.topic, job.address, rd_kafka_err2str(e));
  if (md->topic_cnt != 1 || md->topics[0].err) die("topic %s: %s", job.topic, rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
  // Every partition the broker reports, which may be more than the job names: the whole topic is read.
  int n = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  if (n < job.partitions) die("topic %s has %d partitions, the job expects %d", job.topic, n, job.partitions);

  // Per partition: whether its end was reported, the offset of its first record read and how many were read, so that
  // the count can be checked against the offsets at the end.
  int *at_end = calloc((size_t)n, sizeof *at_end);
  long long *first = malloc((size_t)n * sizeof *first);
  long long *counted = calloc((size_t)n, sizeof *counted);
  long long *end_offset = malloc((size_t)n * sizeof *end_offset);
  if (at_end == NULL || first == NULL || counted == NULL || end_offset == NULL) die("out of memory");
  rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
  int mine = 0;
  for (int p = 0; p < n; p++) {
    first[p] = -1;
    end_offset[p] = -1;
    if (p % job.workers != job.first_partition) continue;
    mine++;
    if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, queue) != 0) {
      die("consume_start %s [%d]: %s", job.topic, p, rd_kafka_err2str(rd_kafka_last_error()));
    }
  }

  enum { BATCH = 16384 };
  static rd_kafka_message_t *msgs[BATCH];
  long long records = 0;
  long long bytes = 0;
  int ended = 0;
  while (ended < mine && mono_ms() < deadline) {
    // The call returns when the array is full or the time is up, so a short time keeps the wait after the last
    // partition's end small.
    ssize_t got = rd_kafka_consume_batch_queue(queue, 10, msgs, BATCH);
    if (got < 0) die("consume_batch_queue: %s", rd_kafka_err2str(rd_kafka_last_error()));
    for (ssize_t i = 0; i < got; i++) {
      rd_kafka_message_t *m = msgs[i];
      int p = m->partition;
      if (p < 0 || p >= n) {
        add_error(m->err ? rd_kafka_message_errstr(m) : "a record of a partition that was not started", 1);
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // Reported again only after more records arrived; no producer writes during this run.
        if (!at_end[p]) ended++;
        at_end[p] = 1;
        end_offset[p] = m->offset;
      } else if (m->err) {
        // Fetch errors are retried by librdkafka; they are reported, and the run goes on to the end or the time limit.
        add_error(rd_kafka_message_errstr(m), 1);
      } else {
        records++;
        bytes += (long long)m->len;
        if (first[p] < 0) first[p] = m->offset;
        counted[p]++;
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(rk, 0); // statistics
  }
  double end = wall_ms();
  double cpu = cpu_seconds() - cpu0;

  if (ended < mine) {
    char text[256];
    snprintf(text, sizeof text, "timed out with %d of %d partitions not read to their end", mine - ended, mine);
    add_error(text, 1);
  }
  for (int p = 0; p < n; p++) {
    // A partition's records run gap-free from its first offset to its end offset (no compaction or transactions).
    if (at_end[p] && first[p] >= 0 && counted[p] != end_offset[p] - first[p]) {
      char text[256];
      snprintf(text, sizeof text, "partition %d: read %lld records between offsets %lld and %lld", p, counted[p], first[p], end_offset[p]);
      add_error(text, 1);
    }
  }
  // The fetchers are stopped first so that the last statistics count every Fetch request this run sent.
  for (int p = 0; p < n; p++) {
    if (p % job.workers == job.first_partition) rd_kafka_consume_stop(rkt, p);
  }
  while (rd_kafka_poll(rk, 0) > 0) {
  }
  long target = atomic_load(&stats_seen) + 2;
  double stats_deadline = mono_ms() + 2000;
  while (atomic_load(&stats_seen) < target && mono_ms() < stats_deadline) rd_kafka_poll(rk, 50);
  printf("{\"records\":%lld,\"bytes\":%lld,\"startMs\":%.3f,\"endMs\":%.3f,", records, bytes, start, end);
  // Fetch requests from librdkafka's statistics; 0 if they never arrived.
  printf("\"requests\":%lld,\"cpuSeconds\":%.3f,", atomic_load(&requests_sent), cpu);
  print_errors();
  printf("}\n");
  rd_kafka_queue_destroy(queue);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("librdkafka %s\n", rd_kafka_version_str());
    return 0;
  }
  if (argc != 2) die("usage: rdkafka-load '<job JSON>' | --version");
  static char out[1 << 20];
  setvbuf(stdout, out, _IOFBF, sizeof out);
  job = parse_job(argv[1]);
  // Freed memory stays in the heap for the next records (see consume_all): librdkafka copies every produced record,
  // and memory given back to the kernel is faulted in anew, which on these virtual machines stalls this process.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (strcmp(job.mode, "consume") == 0) {
    consume_all();
    fflush(stdout);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return 0;
  }
  rate_mode = strcmp(job.mode, "rate") == 0;
  make_pool();
  connect_producer();
  pthread_t thread;
  if (pthread_create(&thread, NULL, poller, NULL) != 0) die("pthread_create failed");
  if (rate_mode) produce_at_rate();
  else produce_flat_out();
  fflush(stdout);
  atomic_store(&stop_poller, 1);
  pthread_join(thread, NULL);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return 0;
}

/**
 * Prometheus text exposition (https://prometheus.io/docs/instrumenting/exposition_formats/) of the
 * gateway's git traffic (requests, bytes and durations by service, endpoint and outcome) and its
 * database traffic (statements by database and verdict, masked values, open connections).
 */
export interface GitRequestObservation {
  service: string;
  endpoint: string;
  outcome: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

export interface DbStatementObservation {
  database: string;
  verdict: string;
  maskedValues: number;
}

export interface Metrics {
  observeGitRequest(observation: GitRequestObservation): void;
  observeDbStatement(observation: DbStatementObservation): void;
  /** Where the open database connection count is read at each scrape. */
  countDbConnectionsWith(count: () => number): void;
  render(): string;
}

const DURATION_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface Series {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  durationSum: number;
  buckets: number[];
}

export function createMetrics(): Metrics {
  const series = new Map<string, Series>();
  const statements = new Map<string, { count: number; masked: number }>();
  let dbConnections: (() => number) | null = null;

  return {
    observeDbStatement(o) {
      const key = labels({ database: o.database, verdict: o.verdict });
      const s = statements.get(key) ?? { count: 0, masked: 0 };
      s.count += 1;
      s.masked += o.maskedValues;
      statements.set(key, s);
    },

    countDbConnectionsWith(count) {
      dbConnections = count;
    },

    observeGitRequest(o) {
      const key = labels({ service: o.service, endpoint: o.endpoint, outcome: o.outcome });
      let s = series.get(key);
      if (!s) {
        s = { requests: 0, bytesIn: 0, bytesOut: 0, durationSum: 0, buckets: DURATION_BUCKETS_S.map(() => 0) };
        series.set(key, s);
      }
      const seconds = o.durationMs / 1000;
      s.requests += 1;
      s.bytesIn += o.bytesIn;
      s.bytesOut += o.bytesOut;
      s.durationSum += seconds;
      DURATION_BUCKETS_S.forEach((bound, i) => {
        if (seconds <= bound) s.buckets[i]! += 1;
      });
    },

    render() {
      const lines: string[] = [];
      const family = (name: string, type: string, help: string, sample: (key: string, s: Series) => string[]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [key, s] of series) lines.push(...sample(key, s));
      };
      family('portcullis_git_requests_total', 'counter', 'Git smart-HTTP requests handled.', (k, s) => [`portcullis_git_requests_total{${k}} ${s.requests}`]);
      family('portcullis_git_received_bytes_total', 'counter', 'Bytes received from agents.', (k, s) => [`portcullis_git_received_bytes_total{${k}} ${s.bytesIn}`]);
      family('portcullis_git_sent_bytes_total', 'counter', 'Bytes sent to agents.', (k, s) => [`portcullis_git_sent_bytes_total{${k}} ${s.bytesOut}`]);
      family('portcullis_git_request_duration_seconds', 'histogram', 'Git request duration.', (k, s) => [
        ...DURATION_BUCKETS_S.map((bound, i) => `portcullis_git_request_duration_seconds_bucket{${k},le="${bound}"} ${s.buckets[i]}`),
        `portcullis_git_request_duration_seconds_bucket{${k},le="+Inf"} ${s.requests}`,
        `portcullis_git_request_duration_seconds_sum{${k}} ${s.durationSum}`,
        `portcullis_git_request_duration_seconds_count{${k}} ${s.requests}`,
      ]);
      lines.push('# HELP portcullis_db_statements_total Statements agents sent through the PostgreSQL proxy, by verdict.', '# TYPE portcullis_db_statements_total counter');
      for (const [key, s] of statements) lines.push(`portcullis_db_statements_total{${key}} ${s.count}`);
      lines.push('# HELP portcullis_db_masked_values_total Result values masked before they reached an agent.', '# TYPE portcullis_db_masked_values_total counter');
      for (const [key, s] of statements) lines.push(`portcullis_db_masked_values_total{${key}} ${s.masked}`);
      if (dbConnections) {
        lines.push('# HELP portcullis_db_connections Open client connections to the PostgreSQL proxy.', '# TYPE portcullis_db_connections gauge', `portcullis_db_connections ${dbConnections()}`);
      }
      return lines.join('\n') + '\n';
    },
  };
}

function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}="${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
    .join(',');
}

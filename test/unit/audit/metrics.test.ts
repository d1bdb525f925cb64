import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/audit/index.ts';
import type { GitRequestObservation } from '../../../src/audit/index.ts';

const BUCKETS = ['0.01', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '300', '+Inf'];
const FAMILIES = [
  ['portcullis_git_requests_total', 'counter'],
  ['portcullis_git_received_bytes_total', 'counter'],
  ['portcullis_git_sent_bytes_total', 'counter'],
  ['portcullis_git_request_duration_seconds', 'histogram'],
  ['portcullis_db_statements_total', 'counter'],
  ['portcullis_db_masked_values_total', 'counter'],
] as const;

function observation(overrides: Partial<GitRequestObservation> = {}): GitRequestObservation {
  return { service: 'git-upload-pack', endpoint: 'git-upload-pack', outcome: 'ok', bytesIn: 0, bytesOut: 0, durationMs: 0, ...overrides };
}

/** Parses exposition text into samples: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    result.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return result;
}

const UPLOAD = 'service="git-upload-pack",endpoint="git-upload-pack",outcome="ok"';

describe('createMetrics().render()', () => {
  it('declares every family with HELP and TYPE even before any traffic', () => {
    const text = createMetrics().render();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual(FAMILIES.flatMap(([name, type]) => [expect.stringMatching(new RegExp(`^# HELP ${name} \\S`)), `# TYPE ${name} ${type}`]));
  });

  it('counts database statements by database and verdict, masked values, and reads the open connection count at each scrape', () => {
    const metrics = createMetrics();
    let open = 3;
    metrics.countDbConnectionsWith(() => open);
    metrics.observeDbStatement({ database: 'app', verdict: 'allow', maskedValues: 2 });
    metrics.observeDbStatement({ database: 'app', verdict: 'allow', maskedValues: 1 });
    metrics.observeDbStatement({ database: 'app', verdict: 'block', maskedValues: 0 });
    const text = metrics.render();
    expect(text).toContain('portcullis_db_statements_total{database="app",verdict="allow"} 2\n');
    expect(text).toContain('portcullis_db_statements_total{database="app",verdict="block"} 1\n');
    expect(text).toContain('portcullis_db_masked_values_total{database="app",verdict="allow"} 3\n');
    expect(text).toContain('portcullis_db_connections 3\n');
    open = 1;
    expect(metrics.render()).toContain('portcullis_db_connections 1\n');
  });

  it('puts each family’s samples right after its HELP and TYPE lines', () => {
    const metrics = createMetrics();
    metrics.observeGitRequest(observation({ durationMs: 20 }));
    metrics.observeGitRequest(observation({ outcome: 'denied' }));
    const lines = metrics.render().trimEnd().split('\n');
    let family = '';
    for (const line of lines) {
      const declared = /^# TYPE (\S+) /.exec(line);
      if (declared) family = declared[1]!;
      else if (!line.startsWith('#')) expect(line.startsWith(family)).toBe(true);
    }
  });

  it('counts requests and sums bytes per service, endpoint and outcome', () => {
    const metrics = createMetrics();
    metrics.observeGitRequest(observation({ bytesIn: 100, bytesOut: 1_000 }));
    metrics.observeGitRequest(observation({ bytesIn: 50, bytesOut: 5_000_000_000 }));
    metrics.observeGitRequest(observation({ endpoint: 'info/refs', bytesOut: 300 }));
    metrics.observeGitRequest(observation({ service: 'git-receive-pack', endpoint: 'git-receive-pack', outcome: 'denied', bytesIn: 7 }));
    const s = samples(metrics.render());
    expect(s.get(`portcullis_git_requests_total{${UPLOAD}}`)).toBe(2);
    expect(s.get(`portcullis_git_received_bytes_total{${UPLOAD}}`)).toBe(150);
    expect(s.get(`portcullis_git_sent_bytes_total{${UPLOAD}}`)).toBe(5_000_001_000);
    expect(s.get('portcullis_git_requests_total{service="git-upload-pack",endpoint="info/refs",outcome="ok"}')).toBe(1);
    expect(s.get('portcullis_git_sent_bytes_total{service="git-upload-pack",endpoint="info/refs",outcome="ok"}')).toBe(300);
    expect(s.get('portcullis_git_requests_total{service="git-receive-pack",endpoint="git-receive-pack",outcome="denied"}')).toBe(1);
    expect(s.get('portcullis_git_received_bytes_total{service="git-receive-pack",endpoint="git-receive-pack",outcome="denied"}')).toBe(7);
  });

  it('renders cumulative duration buckets consistent with the observations', () => {
    const durationsMs = [5, 10, 11, 100, 250, 999, 1_000, 4_000, 61_000, 400_000];
    const metrics = createMetrics();
    for (const durationMs of durationsMs) metrics.observeGitRequest(observation({ durationMs }));
    const s = samples(metrics.render());
    const bucket = (le: string) => s.get(`portcullis_git_request_duration_seconds_bucket{${UPLOAD},le="${le}"}`);
    expect(BUCKETS.map(bucket)).toEqual([
      2, // ≤ 0.01 s: 5 ms, 10 ms (the bound is inclusive)
      3, // ≤ 0.05
      4, // ≤ 0.1
      5, // ≤ 0.25
      5, // ≤ 0.5
      7, // ≤ 1: 999 ms, 1000 ms
      7, // ≤ 2.5
      8, // ≤ 5
      8, // ≤ 10
      8, // ≤ 30
      8, // ≤ 60
      9, // ≤ 300
      10, // +Inf: everything
    ]);
    const counts = BUCKETS.map(bucket) as number[];
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]!);
    expect(s.get(`portcullis_git_request_duration_seconds_count{${UPLOAD}}`)).toBe(durationsMs.length);
    expect(s.get(`portcullis_git_request_duration_seconds_sum{${UPLOAD}}`)).toBeCloseTo(durationsMs.reduce((a, b) => a + b, 0) / 1000, 9);
  });

  it('keeps one histogram per label set', () => {
    const metrics = createMetrics();
    metrics.observeGitRequest(observation({ durationMs: 20 }));
    metrics.observeGitRequest(observation({ outcome: 'upstream_error', durationMs: 20_000 }));
    const s = samples(metrics.render());
    const other = 'service="git-upload-pack",endpoint="git-upload-pack",outcome="upstream_error"';
    expect(s.get(`portcullis_git_request_duration_seconds_bucket{${UPLOAD},le="0.05"}`)).toBe(1);
    expect(s.get(`portcullis_git_request_duration_seconds_bucket{${other},le="0.05"}`)).toBe(0);
    expect(s.get(`portcullis_git_request_duration_seconds_bucket{${other},le="30"}`)).toBe(1);
    expect(s.get(`portcullis_git_request_duration_seconds_count{${UPLOAD}}`)).toBe(1);
    expect(s.get(`portcullis_git_request_duration_seconds_count{${other}}`)).toBe(1);
  });

  it.each([
    { raw: 'has"quote', escaped: 'has\\"quote' },
    { raw: 'back\\slash', escaped: 'back\\\\slash' },
    { raw: 'new\nline', escaped: 'new\\nline' },
    { raw: '\\"\n', escaped: '\\\\\\"\\n' },
    { raw: 'plain-ascii/ok', escaped: 'plain-ascii/ok' },
  ])('escapes the label value $raw', ({ raw, escaped }) => {
    const metrics = createMetrics();
    metrics.observeGitRequest(observation({ service: raw }));
    const text = metrics.render();
    expect(text).toContain(`portcullis_git_requests_total{service="${escaped}",endpoint="git-upload-pack",outcome="ok"} 1\n`);
    // every sample stays on one line: one per family plus 15 histogram lines
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toHaveLength(3 + BUCKETS.length + 2);
  });
});

/**
 * `renderMtailProgram`: the mtail program that turns nginx's metrics log into Prometheus metrics.
 *
 * mtail has no serializer, so, as for nginx, builders return nodes and one `toMtail()` owns
 * indentation and braces; regular expressions go through `regex()`, the one escaping helper.
 */
import { GATEWAY_METRICS } from '../prometheus/promql';
import { generatedBy } from '../prometheus/yaml';
import { type GatewayMetricsSettings, METRICS_LOG } from './settings';

/** `counter name by labels` or `histogram name buckets … by labels`. */
interface Declaration {
  readonly kind: 'declaration';
  readonly type: 'counter' | 'histogram';
  readonly name: string;
  readonly by: readonly string[];
  readonly buckets?: readonly number[];
}
/** `condition { body }`; `otherwise` as condition is mtail's default branch. */
interface Conditional {
  readonly kind: 'conditional';
  readonly condition: string;
  readonly body: readonly MtailNode[];
}
interface Statement {
  readonly kind: 'statement';
  readonly text: string;
}
interface Comment {
  readonly kind: 'comment';
  readonly text: string;
}
type MtailNode = Declaration | Conditional | Statement | Comment;

/** A `/…/` regex literal; `/` is mtail's delimiter and is escaped. */
function regex(source: string): string {
  return `/${source.replace(/\\?\//g, '\\/')}/`;
}

/** A regex source matching exactly `text`. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function toMtail(nodes: readonly MtailNode[], depth = 0): string[] {
  const pad = '  '.repeat(depth);
  return nodes.flatMap((n): string[] => {
    switch (n.kind) {
      case 'declaration': {
        const buckets = n.buckets ? ` buckets ${n.buckets.join(', ')}` : '';
        const by = n.by.length > 0 ? ` by ${n.by.join(', ')}` : '';
        return [`${pad}${n.type} ${n.name}${buckets}${by}`];
      }
      case 'conditional':
        return [`${pad}${n.condition} {`, ...toMtail(n.body, depth + 1), `${pad}}`];
      case 'statement':
        return [`${pad}${n.text}`];
      case 'comment':
        return [`${pad}# ${n.text}`];
    }
  });
}

const str = (value: string): string => JSON.stringify(value);

function count(route: string): Statement[] {
  return [
    { kind: 'statement', text: `${GATEWAY_METRICS.requests}[${route}][$status]++` },
    { kind: 'statement', text: `${GATEWAY_METRICS.requestDuration}[${route}] = $seconds` },
  ];
}

/** The regex matching one metrics line, capturing status and seconds. */
export function metricsLineRegex(): string {
  // Mirrors METRICS_LOG.format field by field.
  if (!METRICS_LOG.format.startsWith('status=$status request_time=$request_time request_uri=')) {
    throw new Error('METRICS_LOG.format and metricsLineRegex are out of step');
  }
  return '^status=(?P<status>\\d{3}) request_time=(?P<seconds>\\d+\\.\\d+) request_uri=';
}

/** Renders the mtail program: `gateway_http_requests_total{route,status}` and a duration histogram by route. */
export function renderMtailProgram(settings: GatewayMetricsSettings): string {
  const routes = settings.routes.map(literal).join('|');
  const program: MtailNode[] = [
    { kind: 'declaration', type: 'counter', name: GATEWAY_METRICS.requests, by: ['route', 'status'] },
    {
      kind: 'comment',
      text: 'Leading -1 bound: mtail 3.0.0~rc50 drops values equal to the lowest bound, and nginx logs 429s as 0.000 s.',
    },
    {
      kind: 'declaration',
      type: 'histogram',
      name: GATEWAY_METRICS.requestDuration,
      by: ['route'],
      buckets: [-1, ...settings.durationBuckets],
    },
    {
      kind: 'conditional',
      condition: regex(metricsLineRegex()),
      body: [
        // $request_uri is the raw request target: its path decides the route, the query is ignored.
        {
          kind: 'conditional',
          condition: regex(`request_uri=(?P<route>${routes})(?:\\?\\S*)?\\s*$`),
          body: count('$route'),
        },
        { kind: 'conditional', condition: 'otherwise', body: count(str('other')) },
      ],
    },
  ];
  return [`# ${generatedBy('deployments/gateway-metrics/program.ts')}`, ...toMtail(program), ''].join('\n');
}

/** Options of the mtail process (local binary or container command). */
export interface MtailProcessOptions {
  /** Directory holding the rendered program. */
  readonly progsDir: string;
  /** Address of the /metrics HTTP listener. */
  readonly httpAddress: string;
  readonly httpPort: number;
  /** The metrics log file to tail. */
  readonly logPath: string;
}

/** Arguments of `mtail` (the Debian binary and the image's entrypoint take the same flags). */
export function mtailArgs(o: MtailProcessOptions): string[] {
  return [
    `--progs=${o.progsDir}`,
    `--logs=${o.logPath}`,
    `--address=${o.httpAddress}`,
    `--port=${o.httpPort}`,
    // The `prog` label would only repeat the program's file name on every series.
    '--emit_prog_label=false',
    '--logtostderr',
  ];
}

// Reads PromQL with Prometheus's own lezer grammar (the one its web UI uses), so the deploy tests
// check dashboard and alert queries as Prometheus parses them, not as a regex guesses.
import { parser } from '@prometheus-io/lezer-promql';

/** A node of the syntax tree (@lezer/common's SyntaxNode, which this workspace does not list). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** One label matcher of a selector: `label op "value"`. */
export interface LabelMatcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** One vector selector (`foo{a="b"}`, also inside a range `foo[5m]`). */
export interface Selector {
  /** The metric name; undefined when it is not a literal (`{__name__=~"..."}`). */
  readonly name: string | undefined;
  /** The label matchers, `__name__` included when written as one. */
  readonly matchers: LabelMatcher[];
  /** The selector's source text. */
  readonly text: string;
}

/** What one PromQL expression selects, from its syntax tree. */
export interface PromqlAnalysis {
  /** Every vector selector, in order of appearance. */
  readonly selectors: Selector[];
  /** Metric names of the selectors, in order of appearance, without duplicates. */
  readonly metricNames: string[];
  /** Text around every syntax error (the parser recovers and marks the spans it could not read). */
  readonly errors: string[];
  /** Selectors whose metric name is not a literal: their names cannot be checked. */
  readonly unnamedSelectors: string[];
}

/** The value of a PromQL string literal: "double" and 'single' (Go escapes) or `raw`. */
const unquote = (literal: string): string => {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  const body = literal.startsWith("'") ? literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"') : literal.slice(1, -1);
  return JSON.parse(`"${body}"`) as string;
};

const MATCH_OPS: Record<string, LabelMatcher['op']> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/**
 * Parses `expr` and lists its selectors and the metric names they select: the identifier of each
 * `VectorSelector` (`rate(foo_total[5m])` → `foo_total`), or the value of an exact
 * `__name__="..."` matcher, or a quoted name (`{"foo"}`, UTF-8 syntax).
 */
export function analyzePromql(expr: string): PromqlAnalysis {
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const errors: string[] = [];
  const text = (node: { from: number; to: number }) => expr.slice(node.from, node.to);

  const matcherOf = (node: SyntaxNode): LabelMatcher | undefined => {
    const label = node.getChild('LabelName') ?? node.getChild('QuotedLabelName');
    const op = node.getChild('MatchOp')?.firstChild;
    const value = node.getChild('StringLiteral');
    if (!label || !op || !value || !(op.name in MATCH_OPS)) return undefined;
    return {
      label: label.name === 'QuotedLabelName' ? unquote(text(label)) : text(label),
      op: MATCH_OPS[op.name]!,
      value: unquote(text(value)),
    };
  };

  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errors.push(`syntax error at ${ref.from}: ${JSON.stringify(expr.slice(Math.max(0, ref.from - 10), ref.to + 10))}`);
        return;
      }
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const identifier = node.getChild('Identifier');
      let name = identifier ? text(identifier) : undefined;
      const matchers: LabelMatcher[] = [];
      for (let child = node.getChild('LabelMatchers')?.firstChild; child; child = child.nextSibling) {
        if (child.name === 'QuotedLabelName') {
          name = unquote(text(child)); // {"metric.name", ...}
          continue;
        }
        if (child.name !== 'UnquotedLabelMatcher' && child.name !== 'QuotedLabelMatcher') continue;
        const matcher = matcherOf(child);
        if (!matcher) continue;
        matchers.push(matcher);
        if (matcher.label === '__name__' && matcher.op === '=') name = matcher.value;
      }
      selectors.push({ name, matchers, text: text(node) });
    },
  });
  return {
    selectors,
    metricNames: [...new Set(selectors.flatMap((s) => (s.name === undefined ? [] : [s.name])))],
    errors,
    unnamedSelectors: selectors.filter((s) => s.name === undefined).map((s) => s.text),
  };
}

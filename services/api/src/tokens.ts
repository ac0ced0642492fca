/** Bearer tokens as INGEST_TOKENS and READ_TOKENS give them: parsing and the rules they must meet. */

/** Shortest token accepted: guessing one must be hopeless (`openssl rand -hex 32` gives 64). */
export const MIN_TOKEN_LENGTH = 16;
const MAX_TOKEN_LENGTH = 4096;
// RFC 6750 b64token: what fits in `Authorization: Bearer <token>` unescaped.
const TOKEN_SYNTAX = /^[A-Za-z0-9._~+/-]+=*$/;

/** `"a, b,"` → `['a', 'b']`; unset or blank → `[]` (the scope stays open). */
export function splitTokens(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/**
 * Problems with the configured tokens, one line each, naming the variable and the token's position
 * but never quoting a token (config errors end up in logs).
 */
export function tokenProblems(ingest: readonly string[], read: readonly string[]): string[] {
  const problems = [...checkEach('INGEST_TOKENS', ingest), ...checkEach('READ_TOKENS', read)];
  const readSet = new Set(read);
  if (ingest.some((t) => readSet.has(t))) {
    problems.push('INGEST_TOKENS and READ_TOKENS share a token: the sets must be separate (an ingest token does not read, a read token does not ingest)');
  }
  return problems;
}

function checkEach(variable: string, tokens: readonly string[]): string[] {
  const problems: string[] = [];
  tokens.forEach((token, i) => {
    const which = `token ${i + 1} of ${tokens.length}`;
    if (token.length < MIN_TOKEN_LENGTH) {
      problems.push(`${variable} has a token that is too short (${which}: ${token.length} characters; at least ${MIN_TOKEN_LENGTH}, e.g. from \`openssl rand -hex 32\`)`);
    } else if (token.length > MAX_TOKEN_LENGTH) {
      problems.push(`${variable} has a token that is too long (${which}: ${token.length} characters; at most ${MAX_TOKEN_LENGTH})`);
    } else if (!TOKEN_SYNTAX.test(token)) {
      problems.push(`${variable} has a token with other characters than A-Z a-z 0-9 - . _ ~ + / and trailing = (${which}; it is sent as Authorization: Bearer <token>)`);
    }
  });
  return problems;
}

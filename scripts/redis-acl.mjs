#!/usr/bin/env node
// Prints the Redis ACL users of the api, the analyzer and KEDA's scaler (`keda`, for
// k8s/extras/keda), from their one definition in packages/redis/src/acl.ts (run `pnpm build` first).
//
//   node scripts/redis-acl.mjs --prefix metrics                     # ACL SETUSER lines, for redis-cli
//   node scripts/redis-acl.mjs --prefix metrics | REDISCLI_AUTH=<admin password> redis-cli -h redis
//   node scripts/redis-acl.mjs --format aclfile --api-password-file api.pw \
//     --analyzer-password-file analyzer.pw --keda-password-file keda.pw > users.acl   # for --aclfile
//
// Passwords are read from files (never from arguments, which `ps` shows) and written only as their
// SHA-256 (`#<hex>`). Without a password file the user is created enabled but with no password,
// so it cannot log in until one is added: `ACL SETUSER api '>…'`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const usage = `usage: node scripts/redis-acl.mjs [--prefix <KEY_PREFIX>] [--format setuser|aclfile]
       [--api-password-file <file>] [--analyzer-password-file <file>] [--keda-password-file <file>]`;

/** @returns {never} */
function fail(message) {
  process.stderr.write(`redis-acl: ${message}\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      prefix: { type: 'string', default: 'metrics' },
      format: { type: 'string', default: 'setuser' },
      'api-password-file': { type: 'string' },
      'analyzer-password-file': { type: 'string' },
      'keda-password-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  fail(err.message);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (args.format !== 'setuser' && args.format !== 'aclfile') fail(`--format must be setuser or aclfile (got ${args.format})`);

let acl;
try {
  acl = await import('@pipeline/redis');
} catch (err) {
  fail(`cannot load @pipeline/redis (${err.code ?? err.message}): run \`pnpm install && pnpm build\` first`);
}

/** A password file's content without its trailing newline, as the services read REDIS_PASSWORD_FILE. */
function readPassword(file) {
  if (file === undefined) return undefined;
  let text;
  try {
    text = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch (err) {
    fail(`cannot read ${file} (${err.code ?? err.message})`);
  }
  if (text === '') fail(`${file} is empty`);
  return text;
}

const line = args.format === 'aclfile' ? acl.aclFileLine : acl.aclSetUserCommand;
for (const user of acl.ACL_USERS) {
  const password = readPassword(args[`${user}-password-file`]);
  try {
    process.stdout.write(`${line(user, args.prefix, password)}\n`);
  } catch (err) {
    fail(err.message);
  }
  if (password === undefined) {
    process.stderr.write(`redis-acl: ${user} has no password yet (--${user}-password-file); it cannot log in until one is added\n`);
  }
}

// cilium policy get|import|delete|validate|explain
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Policy, PolicyExplainPeer, PolicyExplainRequest, PolicyExplainResponse } from '@cilium-ts/agent-api';
import { CliError } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import { validatePolicyFiles } from './policy-validate.js';

/** A peer given on the command line: an identity (number), labels (k=v[,k=v]), a pod (ns/name) or an endpoint reference. */
export function parsePeer(flag: string, text: string): PolicyExplainPeer {
  if (/^\d+$/.test(text)) return { identity: Number(text) };
  if (text.includes('=')) return { labels: text.split(',').map((l) => l.trim()).filter(Boolean) };
  const pod = /^([^/:]+)\/([^/:]+)$/.exec(text);
  if (pod) return { endpoint: `pod-name:${pod[1]}:${pod[2]}` };
  if (/^(cilium-local|container-id|pod-name):/.test(text)) return { endpoint: text };
  throw new CliError(`${flag} ${text}: expected an identity number, labels (k=v,...), a pod (<namespace>/<name>) or an endpoint reference`);
}

/** "80/TCP", "53/udp" or "80" (TCP). */
export function parseDport(text: string): { dport: number; protocol: NonNullable<PolicyExplainRequest['protocol']> } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp|any))?$/i.exec(text);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port > 65535) throw new CliError(`--dport ${text}: expected <port>[/TCP|UDP|SCTP], e.g. 80/TCP`);
  return { dport: port, protocol: (m[2]?.toUpperCase() ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP' | 'ANY' };
}

export function formatExplanation(r: PolicyExplainResponse): string {
  const lines = [`Verdict: ${r.verdict}`, ...r.log.map((l) => `  ${l}`)];
  for (const rule of r.rules) lines.push(`Rule (${rule.direction}, ${rule.verdict}): ${rule.labels.join(' ')}`);
  return lines.join('\n');
}

export function registerPolicy(program: Command, ctx: CommandContext): void {
  const policy = program.command('policy').description('Manage security policies');
  policy
    .command('get')
    .description('Display the policy rules in force')
    .action(async () => {
      const p = await ctx.client().get<Policy>('/v1/policy');
      ctx.print(p, () => `${p.policy}\nRevision: ${p.revision}`);
    });
  policy
    .command('import <files...>')
    .description('Import policy documents from YAML or JSON files')
    .action(async (files: string[]) => {
      const texts = await Promise.all(
        files.map((f) =>
          readFile(f, 'utf8').catch((err: NodeJS.ErrnoException) => {
            throw new CliError(`${f}: cannot read: ${err.code ?? err.message}`);
          }),
        ),
      );
      const body = texts.map((t) => t.replace(/^---\s*\n/, '')).join('\n---\n');
      const p = await ctx.client().request<Policy>('PUT', '/v1/policy', body, 'application/yaml');
      ctx.print(p, () => `Revision: ${p.revision}`);
    });
  policy
    .command('delete [labels...]')
    .description('Delete the rules carrying all given labels (e.g. k8s:io.cilium.k8s.policy.name=web)')
    .option('--all', 'delete every rule')
    .action(async (labels: string[], opts: { all?: boolean }) => {
      if (!labels.length && !opts.all) throw new CliError('policy delete: give the labels of the rules to delete, or --all');
      const query = labels.length ? `labels=${encodeURIComponent(labels.join(','))}` : 'all=true';
      const r = await ctx.client().request<{ revision: number; deleted: number }>('DELETE', `/v1/policy?${query}`);
      ctx.print(r, () => `Deleted ${r.deleted} rule(s)\nRevision: ${r.revision}`);
    });
  policy
    .command('validate <files...>')
    .description('Validate policy files offline (no agent needed)')
    .action(async (files: string[]) => {
      let result;
      try {
        result = await validatePolicyFiles(files);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      ctx.print({ valid: result.exitCode === 0, output: result.output.split('\n') }, () => result.output);
      ctx.exitCode = result.exitCode;
    });
  policy
    .command('explain')
    .description('Explain the verdict for traffic from --src to --dst on --dport, naming the rules that decide it')
    .requiredOption('--src <peer>', 'source: identity, labels (k=v,...), <namespace>/<pod> or endpoint reference')
    .requiredOption('--dst <peer>', 'destination: same forms as --src')
    .option('--dport <port/proto>', 'destination port and protocol, e.g. 80/TCP')
    .action(async (opts: { src: string; dst: string; dport?: string }) => {
      const req: PolicyExplainRequest = { from: parsePeer('--src', opts.src), to: parsePeer('--dst', opts.dst), ...(opts.dport ? parseDport(opts.dport) : {}) };
      const r = await ctx.client().request<PolicyExplainResponse>('POST', '/v1/policy/explain', req);
      ctx.print(r, () => formatExplanation(r));
    });
}

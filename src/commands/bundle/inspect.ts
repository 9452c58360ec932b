import { Args } from '@oclif/core';
import { NetdoctorCommand } from '../../base-command.js';
import { renderBundleSummary, summariseBundle, type BundleSummary } from '../../bundle/summary.js';

export default class BundleInspect extends NetdoctorCommand {
  static override summary = 'Summarise a support bundle: tool, time, cluster, nodes, redaction, findings, files';
  static override description = `Reads the bundle in memory (nothing is unpacked), verifies every checksum of
its manifest and the manifest's and snapshot's schemas, and prints what it
holds (control characters shown escaped). A bundle that is not gzip,
truncated, tampered with, holds links or paths that leave it, is too large
(1 GiB unpacked, 256 MiB per file, compression over 200:1), or comes from a
newer netdoctor is refused (exit 2).`;
  static override examples = [
    'docker netdoctor bundle inspect netdoctor-abc-20260131T100000Z.tar.gz',
    'docker netdoctor bundle inspect support.tar.gz --json',
  ];
  static override enableJsonFlag = true;
  static override args = {
    file: Args.string({ description: 'The bundle (.tar.gz)', required: true }),
  };

  async run(): Promise<BundleSummary> {
    const { args } = await this.parse(BundleInspect);
    const summary = summariseBundle(args.file, await (await import('../../bundle/read.js')).readBundle(args.file));
    if (!this.jsonEnabled()) process.stdout.write(renderBundleSummary(summary));
    return summary;
  }
}

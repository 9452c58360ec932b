/**
 * Results of the active probes (underlay ports, path MTU, overlay data path),
 * recorded so that a snapshot with probes re-analyses identically offline.
 * Weave-style states per node pair and port.
 */

/** ok: confirmed on the receiver; blocked: sent and not received / refused; unconfirmed: could not tell. */
export type ProbeState = 'ok' | 'blocked' | 'unconfirmed';

export interface PortProbe {
  /** Swarm node names. */
  from: string;
  to: string;
  proto: 'tcp' | 'udp' | 'esp';
  /** null for ESP. */
  port: number | null;
  purpose: 'manager' | 'gossip' | 'data-path' | 'esp';
  state: ProbeState;
  detail: string;
  /** ESP: the sender's own kernel refused to send it (EPERM: a netfilter OUTPUT rule on the sender). Absent otherwise. */
  senderRefused?: true;
}

export interface MtuProbe {
  from: string;
  to: string;
  /** ICMP payload size sent with DF set (overlay MTU + 50 - 28). */
  payload: number;
  /** The largest overlay MTU this path must carry plus 50 bytes of VXLAN overhead. */
  required: number;
  state: ProbeState;
  detail: string;
}

export interface DataPathProbe {
  from: string;
  to: string;
  network: string;
  /** Sandbox the probe ran in on `from` (lb_… or a container sandbox). */
  sandbox: string;
  /** The task (or lb endpoint) address on `to` that was pinged. */
  target: string;
  state: ProbeState;
  /** Full-size (overlay MTU) DF ping result; null when not tried. */
  dfState: ProbeState | null;
  detail: string;
}

export interface ProbeResults {
  startedAt: string;
  durationMs: number;
  /**
   * 'covering': TCP 7946, DF pings and overlay pings ran on a covering subset
   * of pairs (src/probe/plan.ts; UDP and tcp/2377 still on every pair).
   * Absent (every snapshot before it existed, and every run up to
   * ALL_PAIRS_MAX nodes or with --probe-pairs all): every pair got every probe.
   */
  pairs?: 'covering';
  ports: PortProbe[];
  mtu: MtuProbe[];
  dataPath: DataPathProbe[];
  /** Probe-level problems per node (no session, missing tools); the checks report them as skips. */
  errors: { node: string; message: string }[];
}

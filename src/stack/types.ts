/**
 * A stack as `docker stack deploy` will create it, from `docker stack
 * config`'s normalised output: the services and networks it deploys, named as
 * they will be in the swarm (`<stack>_<key>` unless external or named).
 */
export interface StackFile {
  path: string;
}

export interface StackLocation {
  file: string;
  line: number;
}

export interface StackPort {
  target: number;
  published: number | null;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode: 'ingress' | 'host';
}

export interface StackService {
  /** Key in the file (`web`). */
  key: string;
  /** Name in the swarm (`<stack>_web`). */
  name: string;
  mode: 'replicated' | 'global';
  replicas: number;
  endpointMode: 'vip' | 'dnsrr';
  ports: StackPort[];
  /** Keys of the stack's networks it joins (default network when none). */
  networks: string[];
  constraints: string[];
  maxReplicasPerNode: number | null;
}

export interface StackNetwork {
  key: string;
  /** Name in the swarm: `<stack>_<key>`, the `name:` given, or the external name. */
  name: string;
  external: boolean;
  driver: string;
  driverOpts: Record<string, string>;
  attachable: boolean;
  subnets: string[];
  encrypted: boolean;
  mtu: number | null;
}

export interface Stack {
  name: string;
  files: StackFile[];
  services: StackService[];
  networks: StackNetwork[];
}

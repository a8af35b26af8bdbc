import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './server-process.js';

/** Whether a redis-server binary is on PATH, for tests that run their own. */
export const hasRedisServer = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * A redis-server this test started itself, on a free port, so it can be stopped, paused and
 * restarted without touching the machine's shared Redis.
 */
export interface OwnRedisServer {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGTERM and wait for the exit: the port then refuses connections. */
  stop(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers, as a swapping or frozen host. */
  pause(): void;
  resume(): void;
}

/** Whether a Redis on this local port answers PING. */
async function redisAnswers(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, connectTimeout: 500 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Waits until the local port answers PING, for at most 10 s. */
async function untilAnswering(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(port))) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function ownRedisServer(): Promise<OwnRedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const server: OwnRedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      await untilAnswering(port);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGCONT');
      running.kill('SIGTERM');
      await exited;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
  await server.start();
  return server;
}

/** A three-primary Redis Cluster of the test's own, on free ports, removed by `stop`. */
export interface OwnRedisCluster {
  /** host:port of every node, as REDIS_CLUSTER_NODES takes them. */
  readonly nodes: string[];
  stop(): Promise<void>;
}

export async function ownRedisCluster(): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: string[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      children.push(
        spawn(
          'redis-server',
          ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--save', '', '--appendonly', 'no'],
          { cwd: nodeDir, stdio: 'ignore' },
        ),
      );
      nodes.push(`127.0.0.1:${port}`);
    }
    for (const node of nodes) await untilAnswering(Number(node.split(':')[1]));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (created.status !== 0 || !/All 16384 slots covered/.test(created.stdout)) {
      throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    }
  } catch (err) {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    async stop() {
      await Promise.all(
        children.map((child) => {
          if (child.exitCode !== null) return Promise.resolve();
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          return exited;
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

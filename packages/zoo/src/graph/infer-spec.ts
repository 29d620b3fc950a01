import { BasisError } from '@basis/tensor';
import { getActivation, phiFixedSubgroup, validateSpec, type AxisRole, type FeatureRole, type GroupDecl, type GroupKind, type PhiRule, type SymmetrySpec } from '@basis/symmetry';
import { describeGraph, type GraphNode, type ModelGraph } from './ir.js';

/** What a group may still contain while the graph is walked: permutations always, plus these. */
interface Caps {
  pos: boolean;
  sign: boolean;
  dense: boolean;
}

interface GroupState {
  size: number;
  caps: Caps;
  phi: PhiRule;
  activation?: string;
  /** Residual stream: restricted to φ(A) = A at the end. */
  tied: boolean;
  blocks: string[];
  /** A group whose kind is fixed by the layer (attention heads). */
  fixed?: GroupDecl;
}

/** The group acting on the unit axis of the tensor flowing through the graph. */
interface Cur {
  group: string | null;
  repeat: number;
  /** 'pre': the tensor moves by A; 'post': by φ(A) (an activation was applied). */
  stage: 'pre' | 'post';
  /** The dense/conv that produced the group, while nothing but a norm follows it. */
  producer: { node: string; weight: string; bias?: string; ndim: number } | null;
}

const ALL: Caps = { pos: true, sign: true, dense: true };

function actCaps(node: Extract<GraphNode, { op: 'activation' }>): { caps: Caps; phi: PhiRule; id: string } {
  const a = getActivation(node.fn, { ...(node.slope === undefined ? {} : { slope: node.slope }), ...(node.degree === undefined ? {} : { degree: node.degree }) });
  const k = a.group;
  const caps: Caps =
    k === 'invertible'
      ? { ...ALL }
      : k === 'positive-monomial'
        ? { pos: true, sign: false, dense: false }
        : k === 'signed-permutation'
          ? { pos: false, sign: true, dense: false }
          : k === 'monomial'
            ? { pos: true, sign: true, dense: false }
            : { pos: false, sign: false, dense: false }; // permutation, or no closed form (GELU, SiLU, softplus)
  return { caps, phi: a.phi ?? 'identity', id: a.id };
}

function kindOf(c: Caps): GroupKind {
  if (c.dense && c.pos && c.sign) return 'invertible';
  if (c.pos && c.sign) return 'monomial';
  if (c.pos) return 'positive-monomial';
  if (c.sign) return 'signed-permutation';
  return 'permutation';
}

function meet(g: GroupState, c: Partial<Caps>): void {
  if (c.pos === false) g.caps.pos = false;
  if (c.sign === false) g.caps.sign = false;
  if (c.dense === false) g.caps.dense = false;
}

/** Options of {@link inferSpec}. */
export interface InferSpecOptions {
  /** Declare a feature for every node output that a group moves (default true). */
  features?: boolean;
}

/**
 * Infers a model's symmetry spec from its graph (S003 Prop. 3.4, Remark 3.6): every dense/conv
 * output gets a group named after the node, narrowed by what follows it — the activation's
 * intertwiner group (GL_n when nothing nonlinear follows), monomials only under a batchnorm or
 * layernorm right after the producer (the producer is then only permuted and γ/β carry the
 * scale), permutations only for a norm that reads an existing group, positive scale for max
 * pooling — and residual streams share one group across blocks, restricted to φ(A) = A. The
 * output layer's units are never transformed. Features are declared for every node output a group
 * moves (`'A'` before, `'phi'` after an activation), so `verifySpec` also checks hidden features.
 * Always check the result with `verifySpec` (`checkModelSymmetry` does both).
 *
 * @example
 * ```ts
 * const spec = inferSpec(mlp({ width: 64, depth: 2, activation: 'relu' }));
 * spec.groups['layers.0'].kind; // 'positive-monomial'
 * ```
 */
export function inferSpec(graph: ModelGraph, opts: InferSpecOptions = {}): SymmetrySpec {
  const desc = describeGraph(graph);
  const shapes = new Map(desc.nodes.map((n) => [n.name, n.shape]));
  const groups = new Map<string, GroupState>();
  const axes: Record<string, Array<AxisRole | null>> = {};
  const features: Record<string, FeatureRole> = {};
  const wantFeatures = opts.features ?? true;

  const setRole = (param: string, ndim: number, axis: number, role: AxisRole): void => {
    const roles = (axes[param] ??= new Array<AxisRole | null>(ndim).fill(null));
    roles[axis] = role;
  };
  const feature = (name: string, cur: Cur): void => {
    if (!wantFeatures || cur.group === null) return;
    const seq = (shapes.get(name) as readonly number[]).length === 2;
    features[name] = { group: cur.group, transform: cur.stage === 'pre' ? 'A' : 'phi', ...(seq ? { axis: 2 } : {}), ...(cur.repeat > 1 ? { repeat: cur.repeat } : {}) };
  };
  const lastDim = (name: string): number => {
    const sh = shapes.get(name) as readonly number[];
    return (sh.length === 2 ? sh[1] : sh[0]) as number;
  };
  const consume = (param: string, ndim: number, cur: Cur): void => {
    if (cur.group !== null) setRole(param, ndim, 1, { group: cur.group, role: 'in', ...(cur.repeat > 1 ? { repeat: cur.repeat } : {}) });
  };
  const isProducer = (n: GraphNode): boolean => n.op === 'dense' || n.op === 'conv2d' || n.op === 'transform' || n.op === 'attention' || n.op === 'embedding';
  /** The group a producer outputs: a new one named after it, or the tied stream. */
  const outGroup = (node: GraphNode, i: number, lastProducer: number, tie: { group: string | null } | undefined): string | null => {
    if (tie !== undefined && i === lastProducer) return tie.group;
    groups.set(node.name, { size: lastDim(node.name), caps: { ...ALL }, phi: 'identity', tied: false, blocks: [] });
    return node.name;
  };

  /** Walks a node list; `tie` (when defined) is the group the list's last producer must output. */
  const walk = (list: readonly GraphNode[], cur0: Cur, tie?: { group: string | null }): Cur => {
    let cur = cur0;
    let lastProducer = -1;
    list.forEach((n, i) => {
      if (isProducer(n)) lastProducer = i;
    });
    list.forEach((node, i) => {
      switch (node.op) {
        case 'dense':
        case 'conv2d':
        case 'transform': {
          const ndim = node.op === 'conv2d' ? 4 : 2;
          const weight = `${node.name}.weight`;
          const bias = node.op !== 'transform' && node.bias !== false ? `${node.name}.bias` : undefined;
          consume(weight, ndim, cur);
          const g = outGroup(node, i, lastProducer, tie);
          if (g !== null) {
            setRole(weight, ndim, 0, { group: g, role: 'out' });
            if (bias !== undefined) setRole(bias, 1, 0, { group: g, role: 'out' });
          }
          cur = { group: g, repeat: 1, stage: 'pre', producer: g === null ? null : { node: node.name, weight, ...(bias === undefined ? {} : { bias }), ndim } };
          break;
        }
        case 'embedding': {
          const g = outGroup(node, i, lastProducer, tie);
          if (g !== null) setRole(`${node.name}.weight`, 2, 1, { group: g, role: 'out' });
          cur = { group: g, repeat: 1, stage: 'pre', producer: null };
          break;
        }
        case 'positional': {
          if (cur.group !== null) {
            setRole(`${node.name}.weight`, 2, 1, { group: cur.group, role: 'out' });
            if (cur.stage === 'post') (groups.get(cur.group) as GroupState).tied = true; // added to φ(A)-moved values: needs φ(A) = A
          }
          cur = { ...cur, stage: 'pre', producer: null };
          break;
        }
        case 'attention': {
          for (const m of ['q', 'k', 'v']) consume(`${node.name}.${m}.weight`, 2, cur);
          const d = lastDim(node.name);
          const heads = `${node.name}.heads`;
          groups.set(heads, { size: d, caps: { pos: false, sign: false, dense: false }, phi: 'identity', tied: false, blocks: [], fixed: { kind: 'block-permutation', size: d, blockSize: d / node.heads, note: `${node.heads} attention heads of ${d / node.heads} units, permuted as blocks` } });
          for (const m of ['q', 'k', 'v']) {
            setRole(`${node.name}.${m}.weight`, 2, 0, { group: heads, role: 'out' });
            setRole(`${node.name}.${m}.bias`, 1, 0, { group: heads, role: 'out' });
          }
          setRole(`${node.name}.o.weight`, 2, 1, { group: heads, role: 'in' });
          const g = outGroup(node, i, lastProducer, tie);
          if (g !== null) {
            setRole(`${node.name}.o.weight`, 2, 0, { group: g, role: 'out' });
            setRole(`${node.name}.o.bias`, 1, 0, { group: g, role: 'out' });
          }
          cur = { group: g, repeat: 1, stage: 'pre', producer: null };
          break;
        }
        case 'token':
          cur = { ...cur, producer: null };
          break;
        case 'batchnorm':
        case 'layernorm': {
          if (cur.group !== null) {
            const g = groups.get(cur.group) as GroupState;
            if (cur.producer !== null && cur.stage === 'pre' && cur.repeat === 1) {
              // norm right after its producer: the producer is only permuted, γ/β carry A's scale
              meet(g, { dense: false });
              const f = features[cur.producer.node];
              if (f !== undefined) features[cur.producer.node] = { ...f, transform: 'perm' };
              setRole(cur.producer.weight, cur.producer.ndim, 0, { group: cur.group, role: 'perm' });
              if (cur.producer.bias !== undefined) setRole(cur.producer.bias, 1, 0, { group: cur.group, role: 'perm' });
              setRole(`${node.name}.weight`, 1, 0, { group: cur.group, role: 'out' });
              setRole(`${node.name}.bias`, 1, 0, { group: cur.group, role: 'out' });
              if (node.op === 'batchnorm') {
                setRole(`${node.name}.running_mean`, 1, 0, { group: cur.group, role: 'perm' });
                setRole(`${node.name}.running_var`, 1, 0, { group: cur.group, role: 'perm' });
              }
            } else {
              // a norm reading an existing group commutes with permutations only
              meet(g, { pos: false, sign: false, dense: false });
              for (const s of node.op === 'batchnorm' ? ['weight', 'bias', 'running_mean', 'running_var'] : ['weight', 'bias']) {
                setRole(`${node.name}.${s}`, 1, 0, { group: cur.group, role: 'perm', ...(cur.repeat > 1 ? { repeat: cur.repeat } : {}) });
              }
            }
          }
          cur = { ...cur, producer: null };
          break;
        }
        case 'activation': {
          if (cur.group !== null) {
            const g = groups.get(cur.group) as GroupState;
            const a = actCaps(node);
            if (cur.stage === 'post') meet(g, { pos: false, sign: false, dense: false });
            else {
              meet(g, a.caps);
              g.phi = a.phi;
              g.activation = a.id;
            }
          }
          cur = { ...cur, stage: 'post', producer: null };
          break;
        }
        case 'maxpool': {
          if (cur.group !== null) {
            const g = groups.get(cur.group) as GroupState;
            // max commutes with the moved map only when that map is a positive monomial
            const moved = cur.stage === 'pre' ? 'identity' : g.phi;
            if (moved === 'identity' || (typeof moved === 'object' && moved.power % 2 === 1)) meet(g, { sign: false, dense: false });
            else meet(g, { dense: false });
          }
          cur = { ...cur, producer: null };
          break;
        }
        case 'avgpool':
        case 'globalavgpool':
          cur = { ...cur, producer: null };
          break;
        case 'flatten': {
          const s = i === 0 ? null : shapes.get((list[i - 1] as GraphNode).name);
          if (cur.group !== null && s !== null && s !== undefined && s.length === 2) {
            throw new BasisError('INVALID_ARGUMENT', `inferSpec: '${node.name}' flattens a sequence, which mixes positions and units; use a token or globalavgpool node instead`);
          }
          const inShape = s ?? null;
          const hw = inShape !== null && inShape.length === 3 ? (inShape[1] as number) * (inShape[2] as number) : 1;
          cur = { ...cur, repeat: cur.repeat * hw, producer: null };
          break;
        }
        case 'residual': {
          const hasProjection = (node.shortcut ?? []).some(isProducer);
          let stream: string | null;
          if (hasProjection) {
            stream = `${node.name}.stream`;
            groups.set(stream, { size: lastDim(node.name), caps: { ...ALL }, phi: 'identity', tied: true, blocks: [node.name] });
          } else {
            stream = cur.group;
            if (stream !== null) {
              const g = groups.get(stream) as GroupState;
              g.tied = true;
              g.blocks.push(node.name);
            }
          }
          const inner = { ...cur, producer: null };
          const bodyEnd = walk(node.body, inner, { group: stream });
          if (hasProjection) walk(node.shortcut ?? [], inner, { group: stream });
          else if ((node.shortcut ?? []).length > 0) walk(node.shortcut ?? [], inner);
          void bodyEnd;
          cur = { group: stream, repeat: hasProjection ? 1 : cur.repeat, stage: 'pre', producer: null };
          break;
        }
      }
      feature(node.name, cur);
    });
    return cur;
  };

  const end = walk(graph.nodes, { group: null, repeat: 1, stage: 'pre', producer: null });
  // the output's units are never transformed: drop the group that reaches the output
  const drop = new Set<string>();
  if (end.group !== null) drop.add(end.group);
  for (const [param, roles] of Object.entries(axes)) {
    axes[param] = roles.map((r) => (r !== null && drop.has(r.group) ? null : r));
    if ((axes[param] as Array<AxisRole | null>).every((r) => r === null)) delete axes[param];
  }
  for (const [f, role] of Object.entries(features)) if (drop.has(role.group)) delete features[f];
  const decls: Record<string, GroupDecl> = {};
  for (const [name, g] of groups) {
    if (drop.has(name)) continue;
    if (g.fixed !== undefined) {
      decls[name] = g.fixed;
      continue;
    }
    let decl: GroupDecl = {
      kind: kindOf(g.caps),
      size: g.size,
      ...(g.caps.dense ? {} : g.phi === 'identity' ? {} : { phi: g.phi }),
      ...(g.activation === undefined ? {} : { activation: g.activation }),
    };
    if (g.tied) {
      decl = { ...phiFixedSubgroup(decl), note: `residual stream tied across ${g.blocks.join(', ')}` };
      if (decl.phi === 'identity') {
        const { phi: _phi, ...rest } = decl;
        decl = rest;
      }
    }
    decls[name] = decl;
  }
  // groups that act on nothing (e.g. a stream reaching only the output) are left out
  const used = new Set<string>();
  for (const roles of Object.values(axes)) for (const r of roles) if (r !== null) used.add(r.group);
  for (const name of Object.keys(decls)) if (!used.has(name)) delete decls[name];
  for (const [f, role] of Object.entries(features)) if (decls[role.group] === undefined) delete features[f];
  if (Object.keys(decls).length === 0) {
    throw new BasisError('INVALID_ARGUMENT', `${graph.name} has no hidden units a symmetry could act on (a single linear layer?)`);
  }
  return validateSpec({
    format: 'basis.symmetry-spec',
    version: 1,
    groups: decls,
    axes,
    ...(Object.keys(features).length > 0 ? { features } : {}),
  });
}

/**
 * The picture: the graph drawn with @xyflow/react at the positions elkjs
 * chose, read-only (nothing is dragged or connected: the API, not the
 * picture, changes the network). A trace's nodes and edges carry the classes
 * `traced` and `traced-drop`, so the path shows on the same picture.
 */
import { Background, Controls, Handle, MiniMap, Panel, Position, ReactFlow, type Edge, type Node, type NodeHandle, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useMemo } from 'react';
import { addZh, useT } from '../i18n';
import { instanceSlot, type Graph, type GraphNode, type Positions } from './graph';
import type { Highlight } from './trace';

addZh({ 'the packet’s path': '数据包路径', 'dropped here': '在此丢弃', reply: '回包' });

type TopoNodeData = { node: GraphNode; mark?: string };
type TopoNode = Node<TopoNodeData, 'topo'>;

const hidden = { opacity: 0, pointerEvents: 'none' as const };

/** One box: title and a few lines. Handles on both sides, hidden: edges pick the side that faces the other end. */
const TopoBox = memo(function TopoBox({ data }: NodeProps<TopoNode>) {
  const n = data.node;
  return (
    <div className={`topo-box topo-${n.kind}`} data-kind={n.kind} title={n.fields.map(([k, v]) => `${k}: ${v}`).join('\n')}>
      <Handle id="lt" type="target" position={Position.Left} style={hidden} isConnectable={false} />
      <Handle id="ls" type="source" position={Position.Left} style={hidden} isConnectable={false} />
      <div className="topo-title">
        {n.kind === 'instance' && <span className={`dot state-${n.state}`}>●</span>}
        {n.title}
      </div>
      {n.lines.map((l, i) => (
        <div key={i} className="topo-line">
          {l}
        </div>
      ))}
      {n.kind === 'instance' && <div className={`topo-line state-${n.state}`}>{n.state}</div>}
      <Handle id="rt" type="target" position={Position.Right} style={hidden} isConnectable={false} />
      <Handle id="rs" type="source" position={Position.Right} style={hidden} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { topo: TopoBox };

/** The four handles TopoBox renders, where it renders them: mid-height on the left and right sides. */
const handlesOf = (w: number, h: number): NodeHandle[] => [
  { id: 'lt', type: 'target', position: Position.Left, x: 0, y: h / 2 - 0.5, width: 1, height: 1 },
  { id: 'ls', type: 'source', position: Position.Left, x: 0, y: h / 2 - 0.5, width: 1, height: 1 },
  { id: 'rt', type: 'target', position: Position.Right, x: w - 1, y: h / 2 - 0.5, width: 1, height: 1 },
  { id: 'rs', type: 'source', position: Position.Right, x: w - 1, y: h / 2 - 0.5, width: 1, height: 1 },
];

/** Absolute positions (an instance's is its subnet's plus its slot in the grid), for choosing edge sides. */
function absolute(graph: Graph, top: Positions): Positions {
  const abs: Positions = new Map(top);
  const count = new Map<string, number>();
  const index = new Map<string, number>();
  for (const n of graph.nodes) if (n.parent) count.set(n.parent, (count.get(n.parent) ?? 0) + 1);
  for (const n of graph.nodes) {
    if (!n.parent) continue;
    const i = index.get(n.parent) ?? 0;
    index.set(n.parent, i + 1);
    const p = top.get(n.parent) ?? { x: 0, y: 0 };
    const s = instanceSlot(i, count.get(n.parent)!);
    abs.set(n.id, { x: p.x + s.x, y: p.y + s.y });
  }
  return abs;
}

export function TopologyGraph(p: { graph: Graph; positions: Positions; highlight: Highlight; selected?: string; onSelect: (id: string | undefined) => void }) {
  const t = useT();
  const { graph, positions, highlight } = p;
  const abs = useMemo(() => absolute(graph, positions), [graph, positions]);
  const sizes = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);

  const nodes = useMemo<TopoNode[]>(() => {
    return graph.nodes.map((n) => {
      const a = abs.get(n.id) ?? { x: 0, y: 0 };
      const parent = n.parent ? abs.get(n.parent) : undefined;
      const position = parent ? { x: a.x - parent.x, y: a.y - parent.y } : a;
      const mark = highlight.drop === n.id ? 'traced-drop' : highlight.nodes.has(n.id) ? 'traced' : undefined;
      return {
        id: n.id,
        type: 'topo',
        position,
        data: { node: n, mark },
        parentId: n.parent,
        extent: n.parent ? ('parent' as const) : undefined,
        className: [mark, n.kind === 'subnet' ? 'topo-group' : ''].filter(Boolean).join(' ') || undefined,
        // Sizes and handle places given, not measured: this flow is controlled without onNodesChange, so the
        // measurements xyflow takes would be dropped with each new node object (every poll) and the edges,
        // which need the handles' places, would vanish until the next resize.
        width: n.width,
        height: n.height,
        measured: { width: n.width, height: n.height },
        handles: handlesOf(n.width, n.height),
        selected: p.selected === n.id,
        draggable: false,
        connectable: false,
        // Subnet boxes sit under their instances; traced edges are drawn above both.
        zIndex: n.kind === 'subnet' ? 0 : 1,
      };
    });
  }, [graph, abs, highlight, p.selected]);

  const edges = useMemo<Edge[]>(() => {
    const sides = (source: string, target: string) => {
      const s = abs.get(source);
      const t = abs.get(target);
      const sw = sizes.get(source)?.width ?? 0;
      const tw = sizes.get(target)?.width ?? 0;
      const forward = !s || !t || s.x + sw / 2 <= t.x + tw / 2;
      return forward ? { sourceHandle: 'rs', targetHandle: 'lt' } : { sourceHandle: 'ls', targetHandle: 'rt' };
    };
    const drawn: Edge[] = graph.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      ...sides(e.source, e.target),
      label: e.label,
      className: highlight.edges.has(e.id) ? 'traced' : undefined,
      animated: highlight.edges.has(e.id),
      zIndex: highlight.edges.has(e.id) ? 1000 : 0,
    }));
    const extra: Edge[] = highlight.extra.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      ...sides(e.source, e.target),
      className: `traced ${e.id.startsWith('trace-rep') ? 'traced-reply' : ''}`.trim(),
      animated: true,
      zIndex: 1000,
    }));
    return [...drawn, ...extra];
  }, [graph, abs, sizes, highlight]);

  return (
    <div className="topo-canvas" data-testid="topology-graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.08, maxZoom: 1.4 }}
        minZoom={0.1}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        onNodeClick={(_, n) => p.onSelect(n.id)}
        onPaneClick={() => p.onSelect(undefined)}
      >
        <Background gap={24} />
        {(highlight.nodes.size > 0 || highlight.drop) && (
          <Panel position="top-left" className="topo-legend">
            <span className="legend-path">{t('the packet’s path')}</span>
            {highlight.extra.some((e) => e.id.startsWith('trace-rep')) && <span className="legend-reply">{t('reply')}</span>}
            {highlight.drop && <span className="legend-drop">{t('dropped here')}</span>}
          </Panel>
        )}
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeColor={(n) => ((n.data as TopoNodeData).mark === 'traced-drop' ? '#dc2626' : (n.data as TopoNodeData).mark ? '#2563eb' : '#cbd5e1')} />
      </ReactFlow>
    </div>
  );
}

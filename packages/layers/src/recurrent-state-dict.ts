/**
 * State dicts of recurrent layers: for each layer and direction, the cell's parameter leaves in tree order,
 * named by their paths in snake_case plus `_l{k}` and `_reverse` — which spells PyTorch's names
 * (`weight_ih_l0`, `bias_hh_l1_reverse`) for the built-in cells and sensible ones for any other cell.
 */
import { freezeTree, randomKey, Tensor, treeFlatten, treeFlattenWithPath, treeUnflatten } from '@tapestry/core';
import type { Key, TreeDef } from '@tapestry/core';
import type { DirectionParams, RecurrentParams } from './recurrent-types.js';
import { readStateDict, snakeName, type StateDict, type StateDictEntry, type StateDictInput } from './state-dict.js';

/** The state-dict conversions of a recurrent stack. */
export interface RecurrentStateDict<P> {
  readonly toStateDict: (params: RecurrentParams<P>) => StateDict;
  readonly fromStateDict: (dict: StateDictInput) => RecurrentParams<P>;
}

type Direction = 'forward' | 'reverse';

const entryName = (path: string, layer: number, direction: number) =>
  `${path === '' ? 'param' : snakeName(path)}_l${layer}${direction === 1 ? '_reverse' : ''}`;

/**
 * Builds `toStateDict` / `fromStateDict` for a stack. `init` gives a template tree (its names, shapes and
 * structure; the values are unused), made once on the first `fromStateDict`. `checkParams` validates a tree
 * before it is converted.
 */
export function recurrentStateDict<P>(
  name: string,
  directions: readonly Direction[],
  init: (key: Key) => RecurrentParams<P>,
  checkParams: (where: string, params: RecurrentParams<P>) => void,
): RecurrentStateDict<P> {
  const toStateDict = (params: RecurrentParams<P>): StateDict => {
    checkParams(`${name}.toStateDict`, params);
    const dict: Record<string, Tensor> = {};
    params.layers.forEach((layer, k) => {
      directions.forEach((direction, d) => {
        for (const [path, leaf] of treeFlattenWithPath(layer[direction]) as [string, unknown][]) {
          if (leaf instanceof Tensor) dict[entryName(path, k, d)] = leaf;
        }
      });
    });
    return Object.freeze(dict);
  };

  let layout: { entries: StateDictEntry[]; defs: { def: TreeDef; count: number }[]; numLayers: number } | undefined;
  const fromStateDict = (dict: StateDictInput): RecurrentParams<P> => {
    if (!layout) {
      const template = init(randomKey(0));
      const entries: StateDictEntry[] = [];
      const defs: { def: TreeDef; count: number }[] = [];
      template.layers.forEach((layer, k) => {
        directions.forEach((direction, d) => {
          const withPaths = treeFlattenWithPath(layer[direction]) as [string, Tensor][];
          for (const [path, leaf] of withPaths) entries.push({ name: entryName(path, k, d), shape: leaf.shape, dtype: leaf.dtype });
          defs.push({ def: treeFlatten(layer[direction])[1], count: withPaths.length });
        });
      });
      layout = { entries, defs, numLayers: template.layers.length };
    }
    const tensors = readStateDict(`${name}.fromStateDict`, layout.entries, dict);
    const layers: DirectionParams<P>[] = [];
    let offset = 0;
    let index = 0;
    const take = (): P => {
      const { def, count } = layout!.defs[index++]!;
      const leaves = tensors.slice(offset, offset + count);
      offset += count;
      return treeUnflatten(def, leaves) as P;
    };
    for (let k = 0; k < layout.numLayers; k++) {
      const forward = take();
      layers.push(directions.length === 2 ? { forward, reverse: take() } : { forward });
    }
    return freezeTree({ layers }) as RecurrentParams<P>;
  };

  return { toStateDict, fromStateDict };
}

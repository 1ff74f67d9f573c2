"""Per-item scores over unit-norm embeddings: similarity for coverage, representativeness, distinctiveness.

Notation: culture c's pool P (n kept episodes), unit vectors x_i, cosine s_ij = x_i . x_j and the
coverage similarity w_ij = max(0, s_ij) with w_ii = 1.

- representativeness r_i = F({i}) = (1/n) sum_{j in P} w_ij: the facility-location coverage of the
  pool by item i alone, i.e. its density in c's pool and its gain if it were picked first.
- distinctiveness d_i = P(c | x_i) under a class-balanced, similarity-weighted k-nearest-neighbour
  classifier over all cultures' kept episodes (i itself excluded):
      v_c'(i) = (1/n_c') sum_{j in N_k(i), culture(j) = c'} max(0, s_ij),   d_i = v_c(i) / sum_c' v_c'(i)
  Dividing by the pool size n_c' makes it a ratio of density estimates p(x | c) / sum p(x | c'),
  so a culture with more episodes does not win neighbourhoods by sheer number. d_i is 1 when only
  c is near, 1/C when the neighbourhood is shared evenly by C cultures, and 1 for every item of a
  run with one culture (there is nothing to be distinct from). An item with no similar
  neighbour at all gets 1/C.

Pools up to `DENSE_LIMIT` items use the exact dense w; larger pools keep w only on the symmetric
k-nearest-neighbour graph (a sparse matrix), the usual approximation that keeps memory linear.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

DENSE_LIMIT = 6000
BLOCK_ROWS = 512

Similarity = np.ndarray | sparse.csr_array


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def nearest_neighbours(
    queries: np.ndarray, keys: np.ndarray, k: int, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The k most cosine-similar keys of every query: (indices, similarities), each (n_queries, k).

    Computed in row blocks so memory stays at BLOCK_ROWS x n_keys. With `exclude_self`, queries and
    keys are the same set and an item is not its own neighbour.
    """
    k = min(k, len(keys) - (1 if exclude_self else 0))
    indices = np.zeros((len(queries), max(k, 0)), dtype=np.int64)
    similarities = np.zeros((len(queries), max(k, 0)), dtype=np.float32)
    if k <= 0:
        return indices, similarities
    for start in range(0, len(queries), BLOCK_ROWS):
        block = queries[start : start + BLOCK_ROWS] @ keys.T
        if exclude_self:
            rows = np.arange(len(block))
            block[rows, start + rows] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        indices[start : start + len(block)] = np.take_along_axis(top, order, axis=1)
        similarities[start : start + len(block)] = np.take_along_axis(top_sims, order, axis=1)
    return indices, similarities


def coverage_similarity(
    vectors: np.ndarray, neighbours: int = 30, dense_limit: int = DENSE_LIMIT
) -> Similarity:
    """w for the facility-location objective: dense (n, n) up to dense_limit, else sparse kNN, symmetric."""
    n = len(vectors)
    if n <= dense_limit:
        w = vectors @ vectors.T
        np.clip(w, 0.0, 1.0, out=w)
        np.fill_diagonal(w, 1.0)
        return w
    indices, sims = nearest_neighbours(vectors, vectors, neighbours, exclude_self=True)
    rows = np.repeat(np.arange(n), indices.shape[1])
    knn = sparse.csr_array((np.clip(sims.ravel(), 0.0, 1.0), (rows, indices.ravel())), shape=(n, n))
    # Symmetric so that row j is also column j: the gain of j is computed from one contiguous row.
    w = knn.maximum(knn.T) + sparse.eye_array(n, dtype=np.float32, format="csr")
    w = sparse.csr_array(w, dtype=np.float32)
    w.sort_indices()
    return w


def representativeness(similarity: Similarity) -> np.ndarray:
    """r_i = (1/n) sum_j w_ij: how much of the pool item i covers on its own."""
    n = similarity.shape[0]
    return np.asarray(similarity.sum(axis=1, dtype=np.float64)).ravel() / n


def distinctiveness(vectors: np.ndarray, cultures: Sequence[str], neighbours: int = 10) -> np.ndarray:
    """d_i = P(own culture | x_i) under the class-balanced kNN classifier described in the module doc."""
    labels, codes = np.unique(np.asarray(cultures), return_inverse=True)
    n_cultures = len(labels)
    if n_cultures <= 1:
        return np.ones(len(vectors))
    pool_sizes = np.bincount(codes, minlength=n_cultures).astype(np.float64)
    indices, sims = nearest_neighbours(vectors, vectors, neighbours, exclude_self=True)
    votes = np.zeros((len(vectors), n_cultures))
    rows = np.repeat(np.arange(len(vectors)), indices.shape[1])
    np.add.at(votes, (rows, codes[indices.ravel()]), np.clip(sims.ravel(), 0.0, None))
    votes /= pool_sizes
    total = votes.sum(axis=1)
    own = votes[np.arange(len(vectors)), codes]
    return np.where(total > 0, own / np.where(total > 0, total, 1.0), 1.0 / n_cultures)

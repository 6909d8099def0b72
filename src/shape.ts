/** A tensor's shape as shaped passes see it: [batch, rows, cols] (a vector is [1, 1, n]). */
export interface MatrixView {
  batch: number;
  rows: number;
  cols: number;
}

/** The [batch, rows, cols] view of a shape: the last two dimensions are the matrix. */
export function matrixView(shape: readonly number[]): MatrixView {
  if (shape.length < 2) return { batch: 1, rows: 1, cols: shape[0] ?? 1 };
  const rows = shape[shape.length - 2]!;
  const cols = shape[shape.length - 1]!;
  const batch = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { batch, rows, cols };
}

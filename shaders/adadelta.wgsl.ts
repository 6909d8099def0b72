/** Adadelta: running averages of g^2 and of the squared updates; the update's unit matches p's. */
export const adadeltaBody = (): string => `
  squareAvg = h.rho * squareAvg + h.oneMinusRho * g * g;
  let rms = sqrt(squareAvg + h.eps);
  let delta = sqrt(accDelta + h.eps) / rms * g;
  accDelta = h.rho * accDelta + h.oneMinusRho * delta * delta;
  p = p - h.lr * delta;
`;

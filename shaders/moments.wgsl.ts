/**
 * Adam's moment updates, shared by Adam/AdamW, NAdam, RAdam and LAMB (Adamax shares the first):
 * m <- beta1*m + (1-beta1)*g;  v <- beta2*v + (1-beta2)*g^2, with the scalars beta1,
 * oneMinusBeta1, beta2, oneMinusBeta2 from the host.
 */
export const firstMoment = '  expAvg = h.beta1 * expAvg + h.oneMinusBeta1 * g;';
export const adamMoments = `${firstMoment}
  expAvgSq = h.beta2 * expAvgSq + h.oneMinusBeta2 * g * g;`;

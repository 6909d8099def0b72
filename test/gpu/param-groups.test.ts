import { expect, it } from 'vitest';
import { addGroupCases } from './add-param-group.ts';
import { useHarnessPage } from './browser.ts';

/**
 * addParamGroup in Chromium, for a few optimizers (the Node suite, test/node/param-groups.test.ts,
 * runs every optimizer): the old groups carry on bit for bit as a twin that never had the new
 * group, the new group matches a fresh optimizer started when it joined; stateOf(p) equals the
 * stateDict() entry.
 */
const harnessPage = useHarnessPage();
const cases = addGroupCases().filter(({ c }) => ['SGD', 'Adam', 'LAMB'].includes(c.optimizer));

it.each(cases)('$title', async ({ c }) => {
  expect(await harnessPage().evaluate((c) => window.harness.runAddGroupCase(c), c)).toEqual([]);
});

import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node'

/**
 * Lists every skipped suite and test with its full name, after the run. The default reporter shows
 * only "N skipped" per file, and a broker suite's name says why it skipped ("ANYMQ_KAFKA_URL unset:
 * run scripts/brokers.sh up kafka"), so without this list the reason needs `--reporter=verbose`.
 */
export class SkipReasonsReporter implements Reporter {
  private filtered = false

  onInit(vitest: Vitest): void {
    // A run narrowed by -t skips everything else by design; listing that would bury the real skips.
    this.filtered = Boolean(vitest.config.testNamePattern)
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.filtered) return
    const lines: string[] = []
    for (const module of testModules) {
      for (const skipped of outermostSkipped(module)) {
        const count = skipped.type === 'suite' ? [...skipped.children.allTests()].length : 1
        lines.push(`  ↓ ${module.relativeModuleId} › ${skipped.fullName} (${count} ${count === 1 ? 'test' : 'tests'})`)
      }
    }
    if (lines.length === 0) return
    process.stdout.write(`\n Skipped, and why:\n${lines.join('\n')}\n`)
  }
}

/** Skipped suites and tests whose parent ran: one line per skip decision, not per test. */
function* outermostSkipped(parent: TestModule | TestSuite): Generator<TestSuite | TestCase> {
  for (const child of parent.children) {
    if (child.type === 'suite') {
      if (child.state() === 'skipped') yield child
      else yield* outermostSkipped(child)
    } else if (child.result().state === 'skipped') {
      yield child
    }
  }
}

import { afterEach, describe, expect, test } from '@jest/globals'
import { getOctokit } from '@actions/github'
import { COMMENT_MARKER, COMMENT_MAX_CHARS, renderComment, upsertStickyComment } from '../../src/action/pr-comment.js'
import { startCommentsServer, type CommentsServer } from '../helpers/github-comments-server.js'
import { makeReport, showcaseReport, type ModelSpec } from '../helpers/report-fixture.js'

let server: CommentsServer | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

const target = { owner: 'acme', repo: 'estimator', issueNumber: 7 }

function octokitFor(s: CommentsServer) {
  return getOctokit('test-token', { baseUrl: s.baseUrl })
}

describe('upsertStickyComment against a GitHub-like server', () => {
  test('our comment on page 2 of 150 is updated in place, not duplicated', async () => {
    const seed = Array.from({ length: 150 }, (_, i) => ({
      issue: 7,
      body: i === 129 ? `${COMMENT_MARKER}\nold report` : `review comment ${i}`
    }))
    server = await startCommentsServer([...seed, { issue: 8, body: `${COMMENT_MARKER}\nanother PR` }])
    const ours = server.comments[129]
    const result = await upsertStickyComment(octokitFor(server), { ...target, body: `${COMMENT_MARKER}\nnew report`, marker: COMMENT_MARKER })
    expect(result).toEqual({ skipped: false, action: 'updated', commentId: ours?.id, url: `${server.baseUrl}/comments/${ours?.id}` })
    expect(server.comments.filter((c) => c.issue === 7)).toHaveLength(150)
    expect(ours?.body).toBe(`${COMMENT_MARKER}\nnew report`)
    expect(server.comments.find((c) => c.issue === 8)?.body).toBe(`${COMMENT_MARKER}\nanother PR`)
    // It walked the pages through the Link header.
    expect(server.requests.filter((r) => r.startsWith('GET'))).toEqual([
      'GET /repos/acme/estimator/issues/7/comments?per_page=100',
      'GET /repos/acme/estimator/issues/7/comments?per_page=100&page=2'
    ])
    expect(server.requests.some((r) => r.startsWith('POST'))).toBe(false)
  })

  test('without a previous comment it creates one, with the marker added when the body lacks it', async () => {
    server = await startCommentsServer([{ issue: 7, body: 'LGTM' }])
    const result = await upsertStickyComment(octokitFor(server), { ...target, body: 'report' })
    expect(result).toMatchObject({ skipped: false, action: 'created' })
    expect(server.comments.filter((c) => c.issue === 7).map((c) => c.body)).toEqual(['LGTM', `${COMMENT_MARKER}\nreport`])
    // A second run finds it and updates it.
    const again = await upsertStickyComment(octokitFor(server), { ...target, body: 'report 2' })
    expect(again).toMatchObject({ skipped: false, action: 'updated' })
    expect(server.comments).toHaveLength(2)
  })

  test('a read-only token (fork pull request) is skipped with a reason, never thrown', async () => {
    server = await startCommentsServer()
    server.forbidden = true
    const result = await upsertStickyComment(octokitFor(server), { ...target, body: 'report' })
    expect(result.skipped).toBe(true)
    expect(result.skipped && result.reason).toMatch(/HTTP 403: Resource not accessible by integration.*fork/)
  })

  test('an unreachable API is skipped too', async () => {
    const octokit = getOctokit('t', { baseUrl: 'http://127.0.0.1:9', request: { retries: 0 } })
    const result = await upsertStickyComment(octokit, { ...target, body: 'report' })
    expect(result.skipped).toBe(true)
  })
})

describe('renderComment', () => {
  test('starts with the hidden marker and carries the verdict', () => {
    const body = renderComment(showcaseReport(), COMMENT_MARKER)
    expect(body.startsWith(`${COMMENT_MARKER}\n### ❌ model-fit-gate failed: 2 failures`)).toBe(true)
  })

  test('stays within GitHub’s comment limit for a very large corpus', () => {
    const models: ModelSpec[] = Array.from({ length: 600 }, (_, i) => ({
      ref: `org/model-${String(i).padStart(4, '0')}-with-a-long-name-GGUF:Q4_K_M`,
      rows: [
        { scenario: 'steady_decode', predicted: 100, observed: 60 + (i % 80) },
        { scenario: 'prefill', predicted: 1000, observed: 900 + i },
        { scenario: 'first_token', predicted: 100, observed: 90 + (i % 40) },
        { scenario: 'kv_warm_reuse', predicted: 100, observed: 95 }
      ]
    }))
    const body = renderComment(makeReport(models))
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS)
    expect(body).toMatch(/more rows not shown \(size limit\)/)
  })
})

import type { getOctokit } from '@actions/github'
import type { Report } from '../contracts/report.js'
import { errorMessage } from '../util/errors.js'
import { renderMarkdown } from '../report/markdown.js'

/** GitHub refuses issue comments longer than this many characters. */
export const COMMENT_MAX_CHARS = 65_536
/** The hidden line that identifies our sticky comment among the others on a pull request. */
export const COMMENT_MARKER = '<!-- model-fit-gate -->'
/** Comments listed per page while looking for the marker (GitHub's maximum). */
const COMMENTS_PER_PAGE = 100

/**
 * The pull-request comment: the marker, then the Markdown report cut to the comment limit. Bytes bound characters
 * from above, so a byte budget keeps the comment under the character limit.
 */
export function renderComment(report: Report, marker: string = COMMENT_MARKER): string {
  const head = `${marker}\n`
  return head + renderMarkdown(report, { maxBytes: COMMENT_MAX_CHARS - Buffer.byteLength(head, 'utf8'), headingLevel: 3 })
}

export type Octokit = ReturnType<typeof getOctokit>

export interface StickyCommentTarget {
  owner: string
  repo: string
  issueNumber: number
  body: string
  marker?: string
}

export type StickyCommentResult =
  | { skipped: false; action: 'created' | 'updated'; commentId: number; url: string }
  | { skipped: true; reason: string }

/**
 * Updates our comment on the pull request in place, found by its marker across all pages of comments, or creates
 * it. A comment is a convenience, never a reason to fail the run: a read-only token (fork pull requests get one),
 * a missing permission or any API error comes back as { skipped: true, reason }.
 */
export async function upsertStickyComment(octokit: Octokit, target: StickyCommentTarget): Promise<StickyCommentResult> {
  const marker = target.marker ?? COMMENT_MARKER
  const body = target.body.includes(marker) ? target.body : `${marker}\n${target.body}`
  const where = { owner: target.owner, repo: target.repo }
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      ...where,
      issue_number: target.issueNumber,
      per_page: COMMENTS_PER_PAGE
    })
    const existing = comments.find((c) => typeof c.body === 'string' && c.body.includes(marker))
    if (existing) {
      const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body })
      return { skipped: false, action: 'updated', commentId: data.id, url: data.html_url }
    }
    const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: target.issueNumber, body })
    return { skipped: false, action: 'created', commentId: data.id, url: data.html_url }
  } catch (err) {
    const status = (err as { status?: unknown }).status
    if (status === 403 || status === 404) {
      return {
        skipped: true,
        reason: `no permission to comment (HTTP ${status}: ${firstLine(errorMessage(err))}); fork pull requests get a read-only token`
      }
    }
    return { skipped: true, reason: `comment failed${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${firstLine(errorMessage(err))}` }
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text
}

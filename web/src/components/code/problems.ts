/** A message about a line of a file shown in a CodeView. */
export interface CodeProblem {
  line?: number | null
  message: string
  severity?: 'error' | 'warning' | 'info'
}

// Package agent is the backend agent: it lives in a secure zone, makes only
// outbound HTTP calls to the bot, claims tasks, runs jobs with an executor
// and reports what may leave the zone.
package agent

import "github.com/fivesafes/fivesafes/runner/protocol"

// The wire types and names are the protocol package's, shared with the bot.
type (
	Task         = protocol.Task
	Job          = protocol.Job
	OutputGroup  = protocol.OutputGroup
	Output       = protocol.Output
	Update       = protocol.Update
	UpdateAnswer = protocol.Answer
	ReleaseTask  = protocol.ReleaseTask
	ReleaseFile  = protocol.ReleaseFile
	ManifestFile = protocol.ManifestFile
	Finding      = protocol.Finding
)

const (
	APIPrefix = protocol.APIPrefix

	KindRunJob         = protocol.KindRunJob
	KindCancelJob      = protocol.KindCancelJob
	KindPrepareRelease = protocol.KindPrepareRelease
	KindUploadRelease  = protocol.KindUploadRelease

	StagePreparing  = protocol.StagePreparing
	StageExecuting  = protocol.StageExecuting
	StageFinalizing = protocol.StageFinalizing
	StageDone       = protocol.StageDone

	CodePreparing         = protocol.CodePreparing
	CodeExecuting         = protocol.CodeExecuting
	CodeFinalizing        = protocol.CodeFinalizing
	CodeSucceeded         = protocol.CodeSucceeded
	CodeNonzeroExit       = protocol.CodeNonzeroExit
	CodeUnmatchedPatterns = protocol.CodeUnmatchedPatterns
	CodeCancelledByUser   = protocol.CodeCancelledByUser
	CodeInternalError     = protocol.CodeInternalError
	CodeTimedOut          = protocol.CodeTimedOut
)

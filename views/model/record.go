package model

import "time"

// Record is an anomaly in the JSON shape of an Elastic ML anomaly record,
// which analysts and their scripts already know; what is ours (triage, the
// explanation in words, severity) sits in fields of our own names.
type Record struct {
	ResultType          string             `json:"result_type"`
	JobID               string             `json:"job_id"`
	Function            string             `json:"function"`
	Detector            string             `json:"detector_description,omitempty"`
	Timestamp           int64              `json:"timestamp"` // bucket start, epoch ms
	Time                string             `json:"time"`      // the same, RFC 3339 UTC
	BucketSpan          int64              `json:"bucket_span"`
	RecordScore         float64            `json:"record_score"`
	InitialRecordScore  float64            `json:"initial_record_score"`
	Probability         float64            `json:"probability"`
	PartitionFieldName  string             `json:"partition_field_name,omitempty"`
	PartitionFieldValue string             `json:"partition_field_value,omitempty"`
	ByFieldName         string             `json:"by_field_name,omitempty"`
	ByFieldValue        string             `json:"by_field_value,omitempty"`
	Actual              []float64          `json:"actual"`
	Typical             []float64          `json:"typical"`
	Influencers         []RecordInfluencer `json:"influencers,omitempty"`
	ID                  string             `json:"auditlens_id"`
	Scope               Scope              `json:"auditlens_scope"`
	Entity              string             `json:"auditlens_entity"`
	Severity            string             `json:"auditlens_severity"`
	Description         string             `json:"auditlens_description,omitempty"`
	Explanation         string             `json:"auditlens_explanation,omitempty"`
	TriageState         string             `json:"auditlens_triage_state"`
	TriageNote          string             `json:"auditlens_triage_note,omitempty"`
	SuppressedBy        string             `json:"auditlens_suppressed_by,omitempty"`
}

// RecordInfluencer is one entry of a record's influencers.
type RecordInfluencer struct {
	Field  string   `json:"influencer_field_name"`
	Values []string `json:"influencer_field_values"`
}

// Record returns the anomaly in record shape, for yanking and export.
func (a Anomaly) Record() Record {
	r := Record{
		ResultType:         "record",
		JobID:              a.JobID,
		Function:           a.Function,
		Detector:           a.Detector,
		Timestamp:          a.Time.UnixMilli(),
		Time:               a.Time.UTC().Format(time.RFC3339),
		BucketSpan:         int64(a.BucketSpan / time.Second),
		RecordScore:        a.Score,
		InitialRecordScore: a.InitialScore,
		Probability:        a.Probability,
		PartitionFieldName: a.PartitionField,
		ByFieldName:        a.ByField,
		ByFieldValue:       a.Executable,
		Actual:             nonNil(a.Actual),
		Typical:            nonNil(a.Typical),
		ID:                 a.ID,
		Scope:              a.Scope,
		Entity:             a.Entity,
		Severity:           a.Severity().String(),
		Description:        Describe(a),
		Explanation:        a.Why,
		TriageState:        a.Triage.State.String(),
		TriageNote:         a.Triage.Note,
		SuppressedBy:       a.SuppressedBy,
	}
	if a.PartitionField != "" {
		r.PartitionFieldValue = a.Entity
	}
	for _, in := range a.Influencers {
		r.Influencers = append(r.Influencers, RecordInfluencer{Field: in.Field, Values: in.Values})
	}
	return r
}

func nonNil(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return v
}

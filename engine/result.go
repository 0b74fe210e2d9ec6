package engine

// Record is one anomaly: one partition, one value, one bucket. Its shape and
// JSON names follow Elastic ML's anomaly records. String fields hold data from
// the audit trail verbatim: sanitize them before they reach a terminal.
type Record struct {
	ResultType          string        `json:"result_type"`
	JobID               string        `json:"job_id"`
	Function            string        `json:"function"`
	FunctionDescription string        `json:"function_description"`
	Timestamp           int64         `json:"timestamp"`   // bucket start, epoch ms
	BucketSpan          int64         `json:"bucket_span"` // seconds
	DetectorIndex       int           `json:"detector_index"`
	PartitionFieldName  string        `json:"partition_field_name,omitempty"`
	PartitionFieldValue string        `json:"partition_field_value,omitempty"`
	ByFieldName         string        `json:"by_field_name,omitempty"`
	ByFieldValue        string        `json:"by_field_value,omitempty"`
	RecordScore         float64       `json:"record_score"`
	InitialRecordScore  float64       `json:"initial_record_score"`
	Probability         float64       `json:"probability"`
	Actual              []float64     `json:"actual"`
	Typical             []float64     `json:"typical"`
	MultiBucketImpact   float64       `json:"multi_bucket_impact,omitempty"`
	Influencers         []Influencer  `json:"influencers,omitempty"`
	Explanation         Explanation   `json:"anomaly_score_explanation"`
	Fleet               *FleetContext `json:"fleet,omitempty"` // rare jobs only
	// FirstSeen and LastSeen (epoch ms) are the first and the previous bucket
	// in which the partition ran this value; SeenBuckets is how many buckets
	// it ran it in before this one. Rare jobs only.
	FirstSeen   int64 `json:"first_seen,omitempty"`
	LastSeen    int64 `json:"last_seen,omitempty"`
	SeenBuckets int64 `json:"seen_buckets,omitempty"`
	// Why says in one sentence why this is anomalous.
	Why string `json:"why"`
	// Entity is the host or container the record is about: the partition
	// value, or with PartitionNone the entity that ran the value (the first
	// of several).
	Entity string `json:"entity,omitempty"`
}

// Influencer lists the values of one influencer field that drove a record.
type Influencer struct {
	FieldName   string   `json:"influencer_field_name"`
	FieldValues []string `json:"influencer_field_values"`
}

// Explanation carries Elastic's anomaly_score_explanation fields and ours.
type Explanation struct {
	AnomalyType            string  `json:"anomaly_type,omitempty"` // "spike" for rate records
	LowerConfidenceBound   float64 `json:"lower_confidence_bound,omitempty"`
	TypicalValue           float64 `json:"typical_value,omitempty"`
	UpperConfidenceBound   float64 `json:"upper_confidence_bound,omitempty"`
	ByFieldFirstOccurrence bool    `json:"by_field_first_occurrence,omitempty"`
	// ByFieldRelativeRarity is the partition's median concentration over this
	// value's: the value is that many times rarer than a typical one.
	ByFieldRelativeRarity float64 `json:"by_field_relative_rarity,omitempty"`
	// SingleBucketProbability and MultiBucketProbability are the rate
	// model's probabilities of this bucket alone and of the window ending
	// here that counted more (12 buckets, or the long window of a night),
	// before the one-day correction that gives Probability.
	SingleBucketProbability float64 `json:"single_bucket_probability,omitempty"`
	MultiBucketProbability  float64 `json:"multi_bucket_probability,omitempty"`
	// MultiBucketActual and MultiBucketTypical are the window's total and its
	// expected total.
	MultiBucketActual  float64 `json:"multi_bucket_actual,omitempty"`
	MultiBucketTypical float64 `json:"multi_bucket_typical,omitempty"`
	// MultiBucketBuckets is the length of that window: 12 buckets, or 32
	// for the long window that finds a rise over a whole night.
	MultiBucketBuckets int `json:"multi_bucket_buckets,omitempty"`
	// PartitionProbability is the rare model's probability for the value in
	// its partition, before fleet context adjusted it.
	PartitionProbability float64 `json:"partition_probability,omitempty"`
	// BurstFamiliarity is the share, in [0, 1), of a rate burst's excess
	// owed to executables that drove bursts of that size before, on this
	// partition or across the fleet; the single-bucket evidence keeps the
	// rest (see the rate model). SingleBucketProbability is after it.
	BurstFamiliarity float64 `json:"burst_familiarity,omitempty"`
	// BurstBreadth is how many executables ran above their usual rate in
	// this burst that no earlier burst on any partition held; a broad burst
	// of them (a recon sweep) is unlike the partition's recurring bursts.
	BurstBreadth int `json:"burst_breadth,omitempty"`
}

// FleetContext is how widely the fleet ran a rare record's executable. For
// docker jobs the "hosts" are containers.
type FleetContext struct {
	// HostsBefore is how many other hosts ran it in earlier buckets.
	HostsBefore int `json:"fleet_hosts_before"`
	// HostsSameBucket is how many other hosts ran it in this bucket.
	HostsSameBucket int `json:"fleet_hosts_same_bucket"`
	// HostsTotal is how many hosts the job has seen so far, this one included.
	HostsTotal int `json:"fleet_hosts_total"`
	// FirstInFleet is true when no host ran it before this bucket.
	FirstInFleet bool `json:"fleet_first_occurrence"`
	// Weight is ln(probability) / ln(partition probability): the share of the
	// partition's evidence the score kept after fleet context (1 = unchanged,
	// below 1 lowered by other hosts running it, above 1 raised because no
	// host ever ran it); 0 when fleet context is off.
	Weight float64 `json:"fleet_weight"`
	// Applied is true when fleet context changed the probability.
	Applied bool `json:"fleet_context_applied"`

	othersNew int // other hosts running it for the first time in this bucket
}

// BucketResult is the job as a whole in one bucket.
type BucketResult struct {
	ResultType string `json:"result_type"`
	JobID      string `json:"job_id"`
	Timestamp  int64  `json:"timestamp"`
	BucketSpan int64  `json:"bucket_span"`
	// AnomalyScore is the highest record score in the bucket, so the
	// overall swimlane row is never calmer than a host's lane.
	AnomalyScore        float64 `json:"anomaly_score"`
	InitialAnomalyScore float64 `json:"initial_anomaly_score"`
	EventCount          int64   `json:"event_count"`
	RecordCount         int     `json:"record_count"`
	// MaxRecord is the index in Results.Records of the bucket's top record,
	// -1 when it has none.
	MaxRecord int `json:"-"`
}

// InfluencerResult is one influencer value in one bucket: its score is the
// highest record score it influenced there.
type InfluencerResult struct {
	ResultType             string  `json:"result_type"`
	JobID                  string  `json:"job_id"`
	Timestamp              int64   `json:"timestamp"`
	BucketSpan             int64   `json:"bucket_span"`
	FieldName              string  `json:"influencer_field_name"`
	FieldValue             string  `json:"influencer_field_value"`
	InfluencerScore        float64 `json:"influencer_score"`
	InitialInfluencerScore float64 `json:"initial_influencer_score"`
	Probability            float64 `json:"probability"`
}

// ModelPoint is the rate model of one partition in one bucket: what happened,
// what was expected and its 95% band, and the bucket's record score.
type ModelPoint struct {
	Bucket  int64   `json:"timestamp"` // bucket start, epoch ms
	Actual  float64 `json:"actual"`
	Typical float64 `json:"typical"`
	Lower   float64 `json:"model_lower"`
	Upper   float64 `json:"model_upper"`
	Score   float64 `json:"score"`
	// Learning is true while the partition is in its learning period: the
	// band is shown but nothing scores.
	Learning bool `json:"learning,omitempty"`
}

// Results is everything a job found, in time order.
type Results struct {
	JobID       string
	BucketSpan  int64 // seconds
	Records     []Record
	Buckets     []BucketResult
	Influencers []InfluencerResult
	// Model is the rate model per partition value ("" when the job models
	// the fleet as one); nil unless Options.KeepModel.
	Model map[string][]ModelPoint
}

package cwtest

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// DescribeAlarmsOutput is a DescribeAlarms reply in AWS's documented JSON
// rendering (member names as in the API reference; times as RFC 3339
// strings). The server encodes it in the protocol the client speaks.
type DescribeAlarmsOutput struct {
	MetricAlarms    []MetricAlarm    `json:"MetricAlarms"`
	CompositeAlarms []CompositeAlarm `json:"CompositeAlarms"`
	NextToken       string           `json:"NextToken,omitempty"`
}

// Dimension is a metric dimension.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// Metric names a metric.
type Metric struct {
	Namespace  string      `json:"Namespace,omitempty"`
	MetricName string      `json:"MetricName,omitempty"`
	Dimensions []Dimension `json:"Dimensions,omitempty"`
}

// MetricStat is a metric with its statistic.
type MetricStat struct {
	Metric Metric `json:"Metric"`
	Period int32  `json:"Period,omitempty"`
	Stat   string `json:"Stat,omitempty"`
	Unit   string `json:"Unit,omitempty"`
}

// MetricDataQuery is one query of a metric-math or anomaly-band alarm.
type MetricDataQuery struct {
	ID         string      `json:"Id"`
	Expression string      `json:"Expression,omitempty"`
	MetricStat *MetricStat `json:"MetricStat,omitempty"`
	Label      string      `json:"Label,omitempty"`
	ReturnData *bool       `json:"ReturnData,omitempty"`
	Period     int32       `json:"Period,omitempty"`
	AccountID  string      `json:"AccountId,omitempty"`
}

// AlarmCommon holds the members metric and composite alarms share.
type AlarmCommon struct {
	AlarmName                          string    `json:"AlarmName"`
	AlarmArn                           string    `json:"AlarmArn,omitempty"`
	AlarmDescription                   string    `json:"AlarmDescription,omitempty"`
	ActionsEnabled                     *bool     `json:"ActionsEnabled,omitempty"`
	AlarmActions                       []string  `json:"AlarmActions,omitempty"`
	OKActions                          []string  `json:"OKActions,omitempty"`
	InsufficientDataActions            []string  `json:"InsufficientDataActions,omitempty"`
	StateValue                         string    `json:"StateValue"`
	StateReason                        string    `json:"StateReason,omitempty"`
	StateReasonData                    string    `json:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              time.Time `json:"StateUpdatedTimestamp,omitzero"`
	StateTransitionedTimestamp         time.Time `json:"StateTransitionedTimestamp,omitzero"`
	AlarmConfigurationUpdatedTimestamp time.Time `json:"AlarmConfigurationUpdatedTimestamp,omitzero"`
}

// MetricAlarm is a metric alarm as DescribeAlarms returns it.
type MetricAlarm struct {
	AlarmCommon
	Namespace          string            `json:"Namespace,omitempty"`
	MetricName         string            `json:"MetricName,omitempty"`
	Dimensions         []Dimension       `json:"Dimensions,omitempty"`
	Statistic          string            `json:"Statistic,omitempty"`
	ExtendedStatistic  string            `json:"ExtendedStatistic,omitempty"`
	Period             int32             `json:"Period,omitempty"`
	EvaluationPeriods  int32             `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm  int32             `json:"DatapointsToAlarm,omitempty"`
	Threshold          *float64          `json:"Threshold,omitempty"`
	ThresholdMetricID  string            `json:"ThresholdMetricId,omitempty"`
	ComparisonOperator string            `json:"ComparisonOperator,omitempty"`
	TreatMissingData   string            `json:"TreatMissingData,omitempty"`
	Unit               string            `json:"Unit,omitempty"`
	Metrics            []MetricDataQuery `json:"Metrics,omitempty"`
	EvaluationState    string            `json:"EvaluationState,omitempty"`
}

// CompositeAlarm is a composite alarm as DescribeAlarms returns it.
type CompositeAlarm struct {
	AlarmCommon
	AlarmRule                        string `json:"AlarmRule"`
	ActionsSuppressor                string `json:"ActionsSuppressor,omitempty"`
	ActionsSuppressorWaitPeriod      int32  `json:"ActionsSuppressorWaitPeriod,omitempty"`
	ActionsSuppressorExtensionPeriod int32  `json:"ActionsSuppressorExtensionPeriod,omitempty"`
	ActionsSuppressedBy              string `json:"ActionsSuppressedBy,omitempty"`
	ActionsSuppressedReason          string `json:"ActionsSuppressedReason,omitempty"`
}

// Name returns the alarm's name.
func (a *MetricAlarm) Name() string { return a.AlarmName }

// Name returns the alarm's name.
func (a *CompositeAlarm) Name() string { return a.AlarmName }

// LoadOutput reads a DescribeAlarms reply in its JSON rendering, as kept
// in testdata/cloudwatch.
func LoadOutput(path string) (*DescribeAlarmsOutput, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out DescribeAlarmsOutput
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &out, nil
}

// The CBOR rendering (Smithy RPC v2): a map per structure, member names as
// keys, timestamps as tag 1 around epoch seconds.

func cborTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}

func cborInt(v int64) cbor.Value {
	if v < 0 {
		return cbor.NegInt(uint64(-v - 1))
	}
	return cbor.Uint(uint64(v))
}

func cborStrings(ss []string) cbor.Value {
	l := make(cbor.List, len(ss))
	for i, s := range ss {
		l[i] = cbor.String(s)
	}
	return l
}

func putStr(m cbor.Map, k, v string) {
	if v != "" {
		m[k] = cbor.String(v)
	}
}

func putInt(m cbor.Map, k string, v int32) {
	if v != 0 {
		m[k] = cborInt(int64(v))
	}
}

func putTime(m cbor.Map, k string, t time.Time) {
	if !t.IsZero() {
		m[k] = cborTime(t)
	}
}

func dimensionsCBOR(ds []Dimension) cbor.List {
	l := make(cbor.List, len(ds))
	for i, d := range ds {
		l[i] = cbor.Map{"Name": cbor.String(d.Name), "Value": cbor.String(d.Value)}
	}
	return l
}

func (c *AlarmCommon) cbor(m cbor.Map) {
	putStr(m, "AlarmName", c.AlarmName)
	putStr(m, "AlarmArn", c.AlarmArn)
	putStr(m, "AlarmDescription", c.AlarmDescription)
	if c.ActionsEnabled != nil {
		m["ActionsEnabled"] = cbor.Bool(*c.ActionsEnabled)
	}
	m["AlarmActions"] = cborStrings(c.AlarmActions)
	m["OKActions"] = cborStrings(c.OKActions)
	m["InsufficientDataActions"] = cborStrings(c.InsufficientDataActions)
	putStr(m, "StateValue", c.StateValue)
	putStr(m, "StateReason", c.StateReason)
	putStr(m, "StateReasonData", c.StateReasonData)
	putTime(m, "StateUpdatedTimestamp", c.StateUpdatedTimestamp)
	putTime(m, "StateTransitionedTimestamp", c.StateTransitionedTimestamp)
	putTime(m, "AlarmConfigurationUpdatedTimestamp", c.AlarmConfigurationUpdatedTimestamp)
}

func (a *MetricAlarm) cbor() cbor.Map {
	m := cbor.Map{}
	a.AlarmCommon.cbor(m)
	putStr(m, "Namespace", a.Namespace)
	putStr(m, "MetricName", a.MetricName)
	if a.Dimensions != nil || a.MetricName != "" {
		m["Dimensions"] = dimensionsCBOR(a.Dimensions)
	}
	putStr(m, "Statistic", a.Statistic)
	putStr(m, "ExtendedStatistic", a.ExtendedStatistic)
	putInt(m, "Period", a.Period)
	putInt(m, "EvaluationPeriods", a.EvaluationPeriods)
	putInt(m, "DatapointsToAlarm", a.DatapointsToAlarm)
	if a.Threshold != nil {
		m["Threshold"] = cbor.Float64(*a.Threshold)
	}
	putStr(m, "ThresholdMetricId", a.ThresholdMetricID)
	putStr(m, "ComparisonOperator", a.ComparisonOperator)
	putStr(m, "TreatMissingData", a.TreatMissingData)
	putStr(m, "Unit", a.Unit)
	putStr(m, "EvaluationState", a.EvaluationState)
	if len(a.Metrics) > 0 {
		l := make(cbor.List, len(a.Metrics))
		for i, q := range a.Metrics {
			qm := cbor.Map{"Id": cbor.String(q.ID)}
			putStr(qm, "Expression", q.Expression)
			putStr(qm, "Label", q.Label)
			putStr(qm, "AccountId", q.AccountID)
			putInt(qm, "Period", q.Period)
			if q.ReturnData != nil {
				qm["ReturnData"] = cbor.Bool(*q.ReturnData)
			}
			if ms := q.MetricStat; ms != nil {
				mm := cbor.Map{}
				putStr(mm, "Namespace", ms.Metric.Namespace)
				putStr(mm, "MetricName", ms.Metric.MetricName)
				mm["Dimensions"] = dimensionsCBOR(ms.Metric.Dimensions)
				sm := cbor.Map{"Metric": mm}
				putInt(sm, "Period", ms.Period)
				putStr(sm, "Stat", ms.Stat)
				putStr(sm, "Unit", ms.Unit)
				qm["MetricStat"] = sm
			}
			l[i] = qm
		}
		m["Metrics"] = l
	}
	return m
}

func (a *CompositeAlarm) cbor() cbor.Map {
	m := cbor.Map{}
	a.AlarmCommon.cbor(m)
	putStr(m, "AlarmRule", a.AlarmRule)
	putStr(m, "ActionsSuppressor", a.ActionsSuppressor)
	putInt(m, "ActionsSuppressorWaitPeriod", a.ActionsSuppressorWaitPeriod)
	putInt(m, "ActionsSuppressorExtensionPeriod", a.ActionsSuppressorExtensionPeriod)
	putStr(m, "ActionsSuppressedBy", a.ActionsSuppressedBy)
	putStr(m, "ActionsSuppressedReason", a.ActionsSuppressedReason)
	return m
}

package cloudwatch

import (
	"sitroom/model/config"
	"sitroom/sources"
)

func init() {
	sources.Register(Type, func(sc config.Source) (sources.Source, error) {
		return New(sc, Options{IgnoreLabels: sc.MatchIgnoreLabels})
	})
}

package main

// Temporary: pins every module the packages being written need, so go.sum is
// complete while they land. Removed once main.go imports them for real.
import (
	_ "github.com/gdamore/tcell/v2"
	_ "github.com/go-json-experiment/json"
	_ "github.com/go-json-experiment/json/jsontext"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/prometheus/common/config"
	_ "github.com/prometheus/common/model"
	_ "github.com/rivo/tview"
	_ "github.com/stretchr/testify/assert"
	_ "github.com/stretchr/testify/require"
	_ "go.yaml.in/yaml/v2"
	_ "go.yaml.in/yaml/v3"
)

func main() {}

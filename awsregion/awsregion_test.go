package awsregion_test

import (
	"testing"

	"github.com/kirikae/kirikae/awsregion"
)

func TestValid(t *testing.T) {
	for _, name := range []string{"us-east-1", "ap-northeast-1", "mx-central-1", "us-gov-west-1", "cn-north-1",
		"us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1"} {
		if !awsregion.Valid(name) {
			t.Errorf("%s refused", name)
		}
	}
	for _, name := range []string{"", "US-EAST-1", "us-east", "useast1", "us-east-1a", "us_east_1", "-us-east-1", "us-east-1 ", "secondary"} {
		if awsregion.Valid(name) {
			t.Errorf("%q accepted", name)
		}
	}
}

func TestInPair(t *testing.T) {
	for name, want := range map[string]string{"primary": "us-east-1", "secondary": "us-west-2", "eu-west-1": "eu-west-1", "": ""} {
		if got := awsregion.InPair(name, "us-east-1", "us-west-2"); got != want {
			t.Errorf("InPair(%q) = %q, want %q", name, got, want)
		}
	}
}

// Command whoami-go-v1 resolves the profile named by AWS_PROFILE through the AWS SDK for Go v1's
// shared config (so through credential_process, as terraform's older providers do), calls STS
// GetCallerIdentity and prints the caller's ARN. With -version it prints the SDK version instead.
//
// aws-sdk-go 1.44 does not read AWS_ENDPOINT_URL, so the endpoint the test harness names there is
// set on the STS client explicitly.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/sts"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(aws.SDKVersion)
		return
	}
	sess, err := session.NewSessionWithOptions(session.Options{
		SharedConfigState: session.SharedConfigEnable,
	})
	if err != nil {
		fail(err)
	}
	config := aws.NewConfig()
	if endpoint := os.Getenv("AWS_ENDPOINT_URL"); endpoint != "" {
		config = config.WithEndpoint(endpoint)
	}
	out, err := sts.New(sess, config).GetCallerIdentity(&sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	fmt.Println(aws.StringValue(out.Arn))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
